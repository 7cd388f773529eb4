import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { analyzePrincipal } from "@/lib/analysis";
import { enqueuePrincipalAccess } from "@/lib/enforcement/outbox";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";
import { ENTERPRISE_SCHEMA, LIST_SCHEMA, USER_SCHEMA } from "./constants";
import { invalidValue, scimNotFound, uniqueness } from "./errors";
import { ieq } from "./like";
import { parseFilter, userWhere } from "./filter";
import { applyPatch, parsePatchBody } from "./patch";
import { pageOf, type Page } from "./paging";

type Json = Record<string, unknown>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Entra sends booleans as "True"/"False" strings. */
const scimBool = z.union([z.boolean(), z.string().regex(/^(true|false)$/i).transform((s) => s.toLowerCase() === "true")]);
const userInput = z.looseObject({
  userName: z.string().trim().min(1, "is required").max(300),
  externalId: z.string().max(300).nullish(),
  displayName: z.string().max(300).nullish(),
  name: z.looseObject({ formatted: z.string().nullish(), givenName: z.string().nullish(), familyName: z.string().nullish() }).nullish(),
  emails: z.array(z.looseObject({ value: z.string().max(320), type: z.string().nullish(), primary: scimBool.nullish() })).max(50).nullish(),
  active: scimBool.nullish(),
  [ENTERPRISE_SCHEMA]: z
    .looseObject({
      department: z.string().max(200).nullish(),
      manager: z.union([z.string(), z.looseObject({ value: z.string().nullish() })]).nullish(),
    })
    .nullish(),
});
type UserInput = z.infer<typeof userInput>;

const include = { team: { select: { id: true, name: true } }, manager: { select: { id: true, displayName: true } } } as const;
type Row = Prisma.PrincipalGetPayload<{ include: typeof include }>;

export function toScimUser(p: Row, base: string): Json {
  const attrs = { ...((p.scimAttributes as Json | null) ?? {}) };
  const ent: Json = { ...((attrs[ENTERPRISE_SCHEMA] as Json | undefined) ?? {}) };
  delete attrs[ENTERPRISE_SCHEMA];
  if (p.manager) ent.manager = { value: p.manager.id, displayName: p.manager.displayName };
  const emails = (attrs.emails as Json[] | undefined) ?? (p.email ? [{ value: p.email, type: "work", primary: true }] : undefined);
  return {
    schemas: [USER_SCHEMA, ...(Object.keys(ent).length ? [ENTERPRISE_SCHEMA] : [])],
    ...attrs,
    id: p.id,
    ...(p.externalId ? { externalId: p.externalId } : {}),
    userName: p.userName ?? p.email ?? p.id,
    displayName: p.displayName,
    ...(emails ? { emails } : {}),
    active: p.status === "active",
    groups: p.team ? [{ value: p.team.id, display: p.team.name, $ref: `${base}/Groups/${p.team.id}` }] : [],
    ...(Object.keys(ent).length ? { [ENTERPRISE_SCHEMA]: ent } : {}),
    meta: {
      resourceType: "User",
      created: p.createdAt.toISOString(),
      lastModified: p.updatedAt.toISOString(),
      location: `${base}/Users/${p.id}`,
      version: `W/"${p.updatedAt.getTime()}"`,
    },
  };
}

function parseUser(body: unknown): UserInput {
  const parsed = userInput.safeParse(body);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw invalidValue(`${i.path.map(String).join(".") || "body"}: ${i.message}`);
  }
  return parsed.data;
}

async function findUser(client: PrismaClient | Tx, id: string): Promise<Row> {
  if (!UUID.test(id)) throw scimNotFound(`User ${id}`);
  const p = await client.principal.findFirst({ where: { id, kind: "user", scimDeletedAt: null }, include });
  if (!p) throw scimNotFound(`User ${id}`);
  return p;
}

export async function getUser(actor: Actor, id: string, base: string, client: PrismaClient = db()): Promise<Json> {
  authorize(actor, "scim");
  return toScimUser(await findUser(client, id), base);
}

export async function listUsers(actor: Actor, q: { filter?: string | null; startIndex?: string | null; count?: string | null }, base: string, client: PrismaClient = db()) {
  authorize(actor, "scim");
  const page: Page = pageOf(q.startIndex, q.count);
  const where: Prisma.PrincipalWhereInput = { kind: "user", scimDeletedAt: null, ...(q.filter ? { AND: [userWhere(parseFilter(q.filter))] } : {}) };
  const [total, rows] = await Promise.all([
    client.principal.count({ where }),
    page.count === 0 ? Promise.resolve([] as Row[]) : client.principal.findMany({ where, include, orderBy: [{ createdAt: "asc" }, { id: "asc" }], skip: page.startIndex - 1, take: page.count }),
  ]);
  return { schemas: [LIST_SCHEMA], totalResults: total, startIndex: page.startIndex, itemsPerPage: rows.length, Resources: rows.map((r) => toScimUser(r, base)) };
}

export async function createUser(actor: Actor, body: unknown, base: string, client: PrismaClient = db()): Promise<Json> {
  authorize(actor, "scim");
  const input = parseUser(body);
  const row = await client.$transaction((tx) => saveUser(tx, actor, null, input, "scim.user.create"));
  return toScimUser(row, base);
}

export async function replaceUser(actor: Actor, id: string, body: unknown, base: string, client: PrismaClient = db()): Promise<Json> {
  authorize(actor, "scim");
  const input = parseUser(body);
  const row = await client.$transaction(async (tx) => saveUser(tx, actor, await lockUser(tx, id), input, "scim.user.replace"));
  wakeDelivery();
  return toScimUser(row, base);
}

export async function patchUser(actor: Actor, id: string, body: unknown, base: string, client: PrismaClient = db()): Promise<Json> {
  authorize(actor, "scim");
  const ops = parsePatchBody(body);
  const row = await client.$transaction(async (tx) => {
    const current = await lockUser(tx, id);
    const patched = applyPatch(toScimUser(current, base), ops, [ENTERPRISE_SCHEMA], USER_SCHEMA);
    return saveUser(tx, actor, current, parseUser(patched), "scim.user.patch");
  });
  wakeDelivery();
  return toScimUser(row, base);
}

/** DELETE keeps the row (deprovisioned) for the audit trail; SCIM answers 404 for it afterwards. */
export async function deleteUser(actor: Actor, id: string, client: PrismaClient = db()): Promise<void> {
  authorize(actor, "scim");
  await client.$transaction(async (tx) => {
    const current = await lockUser(tx, id);
    const now = new Date();
    const wasActive = current.status !== "deprovisioned";
    await tx.principal.update({
      where: { id },
      data: { scimDeletedAt: now, ...(wasActive ? { status: "deprovisioned", deprovisionedAt: now, statusChangedAt: now } : {}) },
    });
    await appendAuditEvent(tx, { actor, action: "scim.user.delete", target: `principal:${id}`, data: { userName: current.userName, deprovisioned: wasActive } });
    if (wasActive) {
      await analyzePrincipal(tx, id);
      await enqueuePrincipalAccess(tx, id, false);
    }
  });
  wakeDelivery();
}

async function lockUser(tx: Tx, id: string): Promise<Row> {
  if (!UUID.test(id)) throw scimNotFound(`User ${id}`);
  await tx.$queryRaw`SELECT id FROM "Principal" WHERE id = ${id}::uuid FOR UPDATE`;
  return findUser(tx, id);
}

async function saveUser(tx: Tx, actor: Actor, current: Row | null, input: UserInput, action: string): Promise<Row> {
  const selfId = current?.id ?? null;
  const userName = input.userName;
  const externalId = input.externalId ?? null;
  await assertUnique(tx, selfId, userName, externalId);

  const name = input.name ?? null;
  const composed = [name?.givenName, name?.familyName].filter(Boolean).join(" ");
  const displayName = (input.displayName || name?.formatted || composed || userName).slice(0, 300);
  const emails = input.emails ?? [];
  const email = (emails.find((e) => e.primary === true) ?? emails[0])?.value ?? (userName.includes("@") ? userName : null);
  const ent = input[ENTERPRISE_SCHEMA] ?? null;
  const managerRef = typeof ent?.manager === "string" ? ent.manager : (ent?.manager?.value ?? null);
  const managerId = managerRef ? await resolveManager(tx, managerRef, selfId) : null;
  const teamId = ent?.department ? await teamForDepartment(tx, ent.department) : undefined;

  // What SCIM sent beyond our columns, kept so a GET returns it (never the password).
  const { userName: _u, externalId: _e, displayName: _d, active: _a, id: _i, meta: _m, schemas: _s, password: _p, groups: _g, ...rest } = input as Json;
  const scimAttributes = JSON.parse(JSON.stringify(rest)) as Prisma.InputJsonValue;

  const active = input.active ?? (current ? current.status === "active" : true);
  const now = new Date();
  const wasActive = current ? current.status === "active" : null;
  const statusChange =
    wasActive === null
      ? { status: active ? ("active" as const) : ("deprovisioned" as const), statusChangedAt: now, deprovisionedAt: active ? null : now }
      : wasActive && !active
        ? { status: "deprovisioned" as const, statusChangedAt: now, deprovisionedAt: now }
        : !wasActive && active
          ? { status: "active" as const, statusChangedAt: now, deprovisionedAt: null, suspendedAt: null }
          : {};
  const data = { userName, externalId, displayName, email, managerId, scimAttributes, ...(teamId ? { teamId } : {}), ...statusChange };

  let row: Row;
  try {
    row = current
      ? await tx.principal.update({ where: { id: current.id }, data, include })
      : await tx.principal.create({ data: { kind: "user", ...data }, include });
  } catch (e) {
    if ((e as { code?: string }).code === "P2002") throw uniqueness("userName or externalId is already taken");
    throw e;
  }
  const deactivated = wasActive !== false && !active;
  await appendAuditEvent(tx, {
    actor,
    action: deactivated ? "scim.user.deactivate" : action,
    target: `principal:${row.id}`,
    data: { userName, externalId, active, via: action },
  });
  // The orphan rule runs now, in this transaction, so the grants are in the queue at commit.
  if (deactivated) await analyzePrincipal(tx, row.id);
  // The proxies follow the status through the outbox, committed with it: a
  // deprovisioned user's keys stop working within the delivery's latency.
  if (current && wasActive !== active) await enqueuePrincipalAccess(tx, row.id, active);
  return row;
}

async function assertUnique(tx: Tx, selfId: string | null, userName: string, externalId: string | null): Promise<void> {
  const notSelf = selfId ? { id: { not: selfId } } : {};
  // A SCIM-deleted row keeps its history but gives its userName/externalId back.
  await tx.principal.updateMany({
    where: { ...notSelf, scimDeletedAt: { not: null }, OR: [{ userName: ieq(userName) }, ...(externalId ? [{ externalId }] : [])] },
    data: { userName: null, externalId: null },
  });
  const clash = await tx.principal.findFirst({
    where: {
      ...notSelf,
      OR: [
        { userName: ieq(userName) },
        { userName: null, kind: "user", scimDeletedAt: null, email: ieq(userName) },
        ...(externalId ? [{ externalId }] : []),
      ],
    },
    select: { id: true, externalId: true },
  });
  if (clash) throw uniqueness(externalId && clash.externalId === externalId ? `externalId ${externalId} is already taken` : `userName ${userName} is already taken`);
}

/** manager.value is the manager's SCIM id; an externalId or userName is accepted too. Unknown → no manager. */
async function resolveManager(tx: Tx, ref: string, selfId: string | null): Promise<string | null> {
  const m = await tx.principal.findFirst({
    where: { kind: "user", scimDeletedAt: null, OR: [...(UUID.test(ref) ? [{ id: ref }] : []), { externalId: ref }, { userName: ieq(ref) }] },
    select: { id: true },
  });
  if (m && m.id === selfId) throw invalidValue("a user cannot be their own manager");
  return m?.id ?? null;
}

async function teamForDepartment(tx: Tx, department: string): Promise<string> {
  const existing = await tx.team.findFirst({ where: { name: ieq(department), deletedAt: null }, select: { id: true } });
  if (existing) return existing.id;
  return (await tx.team.upsert({ where: { name: department }, create: { name: department }, update: { deletedAt: null }, select: { id: true } })).id;
}
