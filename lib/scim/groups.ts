import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { analyzePrincipal } from "@/lib/analysis";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";
import { GROUP_SCHEMA, LIST_SCHEMA } from "./constants";
import { invalidValue, scimNotFound, uniqueness } from "./errors";
import { ieq } from "./like";
import { groupWhere, parseFilter } from "./filter";
import { applyPatch, parsePatchBody } from "./patch";
import { pageOf } from "./paging";

/**
 * Groups are teams; a group's members are the principals whose team it is.
 * A principal has one team, so adding a user to a second group moves them
 * (the last membership the identity provider sends wins).
 */
type Json = Record<string, unknown>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const groupInput = z.looseObject({
  displayName: z.string().trim().min(1, "is required").max(200),
  externalId: z.string().max(300).nullish(),
  members: z.array(z.looseObject({ value: z.string().max(100) })).max(50_000).nullish(),
});

const withMembers = { principals: { where: { scimDeletedAt: null, kind: "user" as const }, select: { id: true, displayName: true }, orderBy: { createdAt: "asc" as const } } };
type Row = Prisma.TeamGetPayload<{ include: typeof withMembers }>;
type Bare = Prisma.TeamGetPayload<object> & { principals?: Row["principals"] };

function toScimGroup(t: Bare, base: string): Json {
  return {
    schemas: [GROUP_SCHEMA],
    id: t.id,
    ...(t.externalId ? { externalId: t.externalId } : {}),
    displayName: t.name,
    ...(t.principals ? { members: t.principals.map((p) => ({ value: p.id, display: p.displayName, $ref: `${base}/Users/${p.id}` })) } : {}),
    meta: { resourceType: "Group", created: t.createdAt.toISOString(), location: `${base}/Groups/${t.id}` },
  };
}

async function findGroup(client: PrismaClient | Tx, id: string, members = true): Promise<Bare> {
  if (!UUID.test(id)) throw scimNotFound(`Group ${id}`);
  const t = await client.team.findFirst({ where: { id, deletedAt: null }, include: members ? withMembers : undefined });
  if (!t) throw scimNotFound(`Group ${id}`);
  return t;
}

const excludesMembers = (excluded?: string | null) => !!excluded && excluded.split(",").some((a) => a.trim().toLowerCase() === "members");

export async function getGroup(actor: Actor, id: string, base: string, excludedAttributes?: string | null, client: PrismaClient = db()) {
  authorize(actor, "scim");
  return toScimGroup(await findGroup(client, id, !excludesMembers(excludedAttributes)), base);
}

export async function listGroups(
  actor: Actor,
  q: { filter?: string | null; startIndex?: string | null; count?: string | null; excludedAttributes?: string | null },
  base: string,
  client: PrismaClient = db(),
) {
  authorize(actor, "scim");
  const page = pageOf(q.startIndex, q.count);
  const where: Prisma.TeamWhereInput = { deletedAt: null, ...(q.filter ? { AND: [groupWhere(parseFilter(q.filter))] } : {}) };
  const [total, rows] = await Promise.all([
    client.team.count({ where }),
    page.count === 0
      ? Promise.resolve([] as Bare[])
      : client.team.findMany({ where, include: excludesMembers(q.excludedAttributes) ? undefined : withMembers, orderBy: [{ createdAt: "asc" }, { id: "asc" }], skip: page.startIndex - 1, take: page.count }),
  ]);
  return { schemas: [LIST_SCHEMA], totalResults: total, startIndex: page.startIndex, itemsPerPage: rows.length, Resources: rows.map((r) => toScimGroup(r, base)) };
}

function parseGroup(body: unknown) {
  const parsed = groupInput.safeParse(body);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw invalidValue(`${i.path.map(String).join(".") || "body"}: ${i.message}`);
  }
  return parsed.data;
}

export async function createGroup(actor: Actor, body: unknown, base: string, client: PrismaClient = db()) {
  authorize(actor, "scim");
  const input = parseGroup(body);
  const row = await client.$transaction((tx) => saveGroup(tx, actor, null, input, "scim.group.create"));
  return toScimGroup(row, base);
}

export async function replaceGroup(actor: Actor, id: string, body: unknown, base: string, client: PrismaClient = db()) {
  authorize(actor, "scim");
  const input = parseGroup(body);
  const row = await client.$transaction(async (tx) => saveGroup(tx, actor, await lockGroup(tx, id), input, "scim.group.replace"));
  return toScimGroup(row, base);
}

export async function patchGroup(actor: Actor, id: string, body: unknown, base: string, client: PrismaClient = db()) {
  authorize(actor, "scim");
  const ops = parsePatchBody(body);
  const row = await client.$transaction(async (tx) => {
    const current = await lockGroup(tx, id);
    const patched = applyPatch(toScimGroup(current, base), ops, [], GROUP_SCHEMA);
    return saveGroup(tx, actor, current, parseGroup(patched), "scim.group.patch");
  });
  return toScimGroup(row, base);
}

export async function deleteGroup(actor: Actor, id: string, client: PrismaClient = db()) {
  authorize(actor, "scim");
  await client.$transaction(async (tx) => {
    const current = await lockGroup(tx, id);
    // The name is freed for a future group; the row stays for APIs that still reference the team.
    // Members keep pointing at the deleted team: the orphan rule flags grants of people whose team is gone.
    await tx.team.update({ where: { id }, data: { deletedAt: new Date(), name: `${current.name} (deleted ${id})`, externalId: null } });
    const members = await tx.principal.findMany({ where: { teamId: id }, select: { id: true } });
    await appendAuditEvent(tx, { actor, action: "scim.group.delete", target: `team:${id}`, data: { name: current.name, members: members.length } });
    for (const m of members) await analyzePrincipal(tx, m.id);
  });
}

async function lockGroup(tx: Tx, id: string): Promise<Bare> {
  if (!UUID.test(id)) throw scimNotFound(`Group ${id}`);
  await tx.$queryRaw`SELECT id FROM "Team" WHERE id = ${id}::uuid FOR UPDATE`;
  return findGroup(tx, id);
}

async function saveGroup(tx: Tx, actor: Actor, current: Bare | null, input: z.infer<typeof groupInput>, action: string): Promise<Row> {
  const notSelf = current ? { id: { not: current.id } } : {};
  const clash = await tx.team.findFirst({
    where: { ...notSelf, OR: [{ name: ieq(input.displayName) }, ...(input.externalId ? [{ externalId: input.externalId }] : [])] },
    select: { id: true },
  });
  if (clash) throw uniqueness(`a group named ${input.displayName}${input.externalId ? ` or with externalId ${input.externalId}` : ""} already exists`);

  const memberIds = input.members ? [...new Set(input.members.map((m) => m.value))] : null;
  if (memberIds) {
    const bad = memberIds.filter((m) => !UUID.test(m));
    const found = await tx.principal.findMany({ where: { id: { in: memberIds.filter((m) => UUID.test(m)) }, kind: "user", scimDeletedAt: null }, select: { id: true } });
    const known = new Set(found.map((f) => f.id));
    const unknown = [...bad, ...memberIds.filter((m) => UUID.test(m) && !known.has(m))];
    if (unknown.length) throw invalidValue(`members: unknown user id(s) ${unknown.slice(0, 5).join(", ")}`);
  }
  let team: Bare;
  try {
    team = current
      ? await tx.team.update({ where: { id: current.id }, data: { name: input.displayName, externalId: input.externalId ?? null } })
      : await tx.team.create({ data: { name: input.displayName, externalId: input.externalId ?? null } });
  } catch (e) {
    if ((e as { code?: string }).code === "P2002") throw uniqueness("displayName or externalId is already taken");
    throw e;
  }
  let added = 0;
  let removed = 0;
  if (memberIds) {
    removed = (await tx.principal.updateMany({ where: { teamId: team.id, kind: "user", id: { notIn: memberIds } }, data: { teamId: null } })).count;
    added = (await tx.principal.updateMany({ where: { id: { in: memberIds }, NOT: { teamId: team.id } }, data: { teamId: team.id } })).count;
    // updateMany skips rows whose teamId is NULL under NOT(teamId = x); set those too.
    added += (await tx.principal.updateMany({ where: { id: { in: memberIds }, teamId: null }, data: { teamId: team.id } })).count;
  }
  await appendAuditEvent(tx, { actor, action, target: `team:${team.id}`, data: { displayName: input.displayName, externalId: input.externalId ?? null, membersAdded: added, membersRemoved: removed } });
  return (await findGroup(tx, team.id)) as Row;
}
