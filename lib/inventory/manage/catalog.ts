import { randomUUID } from "node:crypto";
import { z } from "zod";
import { appendAuditEvent } from "@/lib/audit";
import { actorLabel, authorize, type Actor } from "@/lib/auth/actor";
import { parse } from "@/lib/access/common";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { badRequest, conflict } from "@/lib/errors";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { upstreamUrl } from "@/lib/discovery/openapi/base-url";
import { badTemplate } from "@/lib/discovery/openapi/extract";
import { enqueueInventoryChanges } from "@/lib/discovery/openapi/outbox";
import { replaceEndpointLinks } from "@/lib/discovery/openapi/write-sets";
import { plainText } from "@/lib/validation/text";
import { lockRow, uniqueConflict } from "./common";

// APIs, endpoints and scopes written through the inventory API (issue 15). What the
// proxies enforce (an API's upstream and prefix, an endpoint's route and requirements)
// reaches them through the same outbox rows an OpenAPI import writes
// (lib/discovery/openapi/outbox.ts), in the same transaction as the change and its audit event.

const description = z.string().max(5000).nullable().optional();

export const createApiInput = z.strictObject({
  name: plainText(200),
  environmentId: z.uuid("must be an environment id"),
  baseUrl: upstreamUrl.meta({ description: "The upstream the proxy forwards to" }),
  description,
  teamId: z.uuid("must be a team id").nullable().optional().meta({ description: "The owning team" }),
});
export const updateApiInput = createApiInput.omit({ environmentId: true }).partial();

const METHODS = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"] as const;
const pathTemplate = z
  .string()
  .max(2000)
  .regex(/^\//, "must start with /")
  .superRefine((t, ctx) => {
    const bad = badTemplate(t);
    if (bad) ctx.addIssue({ code: "custom", message: bad });
  });
const requirements = z
  .array(z.array(z.uuid("must be scope ids")).min(1, "an alternative names at least one scope").max(20), "must be a list of scope-id lists")
  .max(50)
  .meta({ description: "Alternatives (OR) of scope sets (AND), as OpenAPI security requirements: [[a], [b, c]] accepts a, or b and c together" });

export const createEndpointInput = z.strictObject({
  apiId: z.uuid("must be an API id"),
  method: z.enum(METHODS),
  pathTemplate: pathTemplate.meta({ description: "Path relative to the API, with {parameters}" }),
  summary: z.string().max(1000).nullable().optional(),
  sensitivity: z.enum(["low", "medium", "high", "critical"]).optional(),
  public: z.boolean().optional().meta({ description: "Accepts requests without any credential" }),
  requirements: requirements.optional(),
});
export const updateEndpointInput = createEndpointInput.omit({ apiId: true }).partial();

export const createScopeInput = z.strictObject({
  apiId: z.uuid("must be an API id"),
  name: plainText(200),
  level: z.enum(["read", "write", "admin"]),
  description,
});
export const updateScopeInput = createScopeInput.omit({ apiId: true }).partial();

const wakeIf = <T extends { outboxRows: number }>(r: T) => (r.outboxRows > 0 && wakeDelivery(), r);

/** Sends the API (and the given routes) to every proxy of its environment, keyed by this change. */
async function sendApi(tx: Tx, apiId: string, upserts: string[], deletes: string[]): Promise<number> {
  const api = await tx.api.findUniqueOrThrow({ where: { id: apiId }, select: { id: true, name: true, baseUrl: true, environmentId: true } });
  return enqueueInventoryChanges(tx, {
    environmentId: api.environmentId,
    idempotencyKey: `inventory:${randomUUID()}`,
    api: { id: api.id, name: api.name, upstream: api.baseUrl },
    upsertEndpointIds: upserts,
    deleteEndpointIds: deletes,
  });
}

async function checkTeam(tx: Tx, teamId: string | null | undefined): Promise<void> {
  if (teamId && !(await tx.team.findFirst({ where: { id: teamId, deletedAt: null }, select: { id: true } }))) throw badRequest("teamId: unknown team", "teamId");
}

const API_TAKEN = "An API with this name already exists in this environment";

export async function createApi(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  const v = parse(createApiInput, input);
  return client.$transaction(async (tx) => {
    if (!(await tx.environment.findUnique({ where: { id: v.environmentId }, select: { id: true } }))) throw badRequest("environmentId: unknown environment", "environmentId");
    await checkTeam(tx, v.teamId);
    const row = await uniqueConflict(API_TAKEN, () =>
      tx.api.create({ data: { name: v.name, environmentId: v.environmentId, baseUrl: v.baseUrl, description: v.description ?? null, teamId: v.teamId ?? null }, select: { id: true } }),
    );
    await appendAuditEvent(tx, { actor, action: "inventory.api_create", target: `api:${row.id}`, data: { name: v.name, baseUrl: v.baseUrl } });
    // No routes yet: the proxies learn the API with its first endpoint (or their next snapshot).
    return { id: row.id, outboxRows: 0 };
  });
}

export async function updateApi(actor: Actor, id: string, input: unknown, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  const v = parse(updateApiInput, input);
  return wakeIf(
    await client.$transaction(async (tx) => {
      await lockRow(tx, "Api", id);
      await checkTeam(tx, v.teamId);
      await uniqueConflict(API_TAKEN, () => tx.api.update({ where: { id }, data: v }));
      await appendAuditEvent(tx, { actor, action: "inventory.api_update", target: `api:${id}`, data: { changed: Object.keys(v).sort(), ...v } });
      // Name (the proxy prefix) and upstream are the proxy's business: resend the API with its routes.
      const routed = v.name !== undefined || v.baseUrl !== undefined;
      const endpoints = routed ? (await tx.endpoint.findMany({ where: { apiId: id }, select: { id: true } })).map((e) => e.id) : [];
      return { id, outboxRows: routed ? await sendApi(tx, id, endpoints, []) : 0 };
    }),
  );
}

/** Only an API nobody was ever granted: grants carry review history, which deleting would erase. */
export async function deleteApi(actor: Actor, id: string, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  return wakeIf(
    await client.$transaction(async (tx) => {
      await lockRow(tx, "Api", id);
      const grants = await tx.grant.count({ where: { scope: { apiId: id } } });
      if (grants > 0) throw conflict(`This API has ${grants} grant${grants === 1 ? "" : "s"} (active or in its history): revoke them; an API with grant history is kept`);
      const api = await tx.api.findUniqueOrThrow({ where: { id }, select: { name: true, endpoints: { select: { id: true } } } });
      // The routes leave the proxies in the same transaction that deletes them here.
      const outboxRows = await sendApi(tx, id, [], api.endpoints.map((e) => e.id));
      await tx.api.delete({ where: { id } });
      await appendAuditEvent(tx, { actor, action: "inventory.api_delete", target: `api:${id}`, data: { name: api.name, endpoints: api.endpoints.length } });
      return { id, outboxRows };
    }),
  );
}

/** Every scope id belongs to the endpoint's API; each alternative becomes one requirement (AND). */
async function linkRequirements(tx: Tx, apiId: string, endpointId: string, sets: string[][]): Promise<void> {
  const ids = [...new Set(sets.flat())];
  const own = await tx.scope.count({ where: { apiId, id: { in: ids } } });
  if (own !== ids.length) throw badRequest("requirements: every scope must belong to the endpoint's API", "requirements");
  const links = sets.flatMap((set) => {
    const requirementId = randomUUID();
    return [...new Set(set)].map((scopeId) => ({ endpointId, requirementId, scopeId }));
  });
  await replaceEndpointLinks(tx, [endpointId], links);
}

const ENDPOINT_TAKEN = "This API already has an endpoint with this method and path";

export async function createEndpoint(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  const v = parse(createEndpointInput, input);
  return wakeIf(
    await client.$transaction(async (tx) => {
      if (!(await tx.api.findUnique({ where: { id: v.apiId }, select: { id: true } }))) throw badRequest("apiId: unknown API", "apiId");
      await lockRow(tx, "Api", v.apiId);
      const row = await uniqueConflict(ENDPOINT_TAKEN, () =>
        tx.endpoint.create({
          data: { apiId: v.apiId, method: v.method, pathTemplate: v.pathTemplate, summary: v.summary ?? null, sensitivity: v.sensitivity, public: v.public ?? false },
          select: { id: true },
        }),
      );
      await linkRequirements(tx, v.apiId, row.id, v.requirements ?? []);
      await appendAuditEvent(tx, { actor, action: "inventory.endpoint_create", target: `endpoint:${row.id}`, data: { apiId: v.apiId, method: v.method, pathTemplate: v.pathTemplate, public: v.public ?? false, requirements: v.requirements ?? [] } });
      return { id: row.id, outboxRows: await sendApi(tx, v.apiId, [row.id], []) };
    }),
  );
}

export async function updateEndpoint(actor: Actor, id: string, input: unknown, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  const v = parse(updateEndpointInput, input);
  return wakeIf(
    await client.$transaction(async (tx) => {
      await lockRow(tx, "Endpoint", id);
      const { requirements: sets, ...fields } = v;
      const row = await uniqueConflict(ENDPOINT_TAKEN, () => tx.endpoint.update({ where: { id }, data: fields, select: { apiId: true } }));
      if (sets) await linkRequirements(tx, row.apiId, id, sets);
      await appendAuditEvent(tx, { actor, action: "inventory.endpoint_update", target: `endpoint:${id}`, data: { changed: Object.keys(v).sort(), ...v } });
      return { id, outboxRows: await sendApi(tx, row.apiId, [id], []) };
    }),
  );
}

export async function deleteEndpoint(actor: Actor, id: string, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  return wakeIf(
    await client.$transaction(async (tx) => {
      await lockRow(tx, "Endpoint", id);
      const e = await tx.endpoint.findUniqueOrThrow({ where: { id }, select: { apiId: true, method: true, pathTemplate: true } });
      const outboxRows = await sendApi(tx, e.apiId, [], [id]);
      await tx.endpoint.delete({ where: { id } });
      await appendAuditEvent(tx, { actor, action: "inventory.endpoint_delete", target: `endpoint:${id}`, data: e });
      return { id, outboxRows };
    }),
  );
}

const SCOPE_TAKEN = "This API already has a scope with this name";

export async function createScope(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  const v = parse(createScopeInput, input);
  return client.$transaction(async (tx) => {
    if (!(await tx.api.findUnique({ where: { id: v.apiId }, select: { id: true } }))) throw badRequest("apiId: unknown API", "apiId");
    const row = await uniqueConflict(SCOPE_TAKEN, () =>
      // Set by a person, like an admin's correction on the API page (lib/discovery/openapi/scope-level.ts): re-imports keep it.
      tx.scope.create({ data: { apiId: v.apiId, name: v.name, level: v.level, description: v.description ?? null, levelSetBy: actorLabel(actor), levelSetAt: new Date() }, select: { id: true } }),
    );
    await appendAuditEvent(tx, { actor, action: "inventory.scope_create", target: `scope:${row.id}`, data: v });
    // A scope no endpoint requires changes nothing at the proxies.
    return { id: row.id, outboxRows: 0 };
  });
}

export async function updateScope(actor: Actor, id: string, input: unknown, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  const v = parse(updateScopeInput, input);
  return client.$transaction(async (tx) => {
    await lockRow(tx, "Scope", id);
    const before = await tx.scope.findUniqueOrThrow({ where: { id }, select: { level: true, name: true } });
    const levelChanged = v.level !== undefined && v.level !== before.level;
    await uniqueConflict(SCOPE_TAKEN, () => tx.scope.update({ where: { id }, data: { ...v, ...(levelChanged ? { levelSetBy: actorLabel(actor), levelSetAt: new Date() } : {}) } }));
    await appendAuditEvent(tx, { actor, action: levelChanged ? "inventory.scope_level" : "inventory.scope_update", target: `scope:${id}`, data: { name: before.name, changed: Object.keys(v).sort(), ...v, ...(levelChanged ? { from: before.level, to: v.level } : {}) } });
    // Proxies match scope ids, never names or levels: nothing to send.
    return { id, outboxRows: 0 };
  });
}

/** Only a scope no endpoint requires and nobody was ever granted (deleting a requirement would widen what an endpoint accepts). */
export async function deleteScope(actor: Actor, id: string, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  return client.$transaction(async (tx) => {
    await lockRow(tx, "Scope", id);
    const grants = await tx.grant.count({ where: { scopeId: id } }); // sequential: one transaction is one connection
    const links = await tx.endpointScope.count({ where: { scopeId: id } });
    if (links > 0) throw conflict(`${links} endpoint requirement${links === 1 ? " names" : "s name"} this scope: change those endpoints first`);
    if (grants > 0) throw conflict(`This scope has ${grants} grant${grants === 1 ? "" : "s"} (active or in its history): it is kept`);
    const s = await tx.scope.delete({ where: { id }, select: { name: true, apiId: true } });
    await appendAuditEvent(tx, { actor, action: "inventory.scope_delete", target: `scope:${id}`, data: s });
    return { id, outboxRows: 0 };
  });
}
