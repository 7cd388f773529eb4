import { randomUUID } from "node:crypto";
import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { badRequest, conflict, fromZod, notFound } from "@/lib/errors";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { inferLevel } from "./openapi/extract";
import { enqueueInventoryChanges, prefixInSnapshot } from "./openapi/outbox";

/**
 * Shadow endpoints: requests the proxies saw that match no documented route
 * (already normalised by the proxy: ids, UUIDs and numbers folded into
 * `{param}`), merged per environment + method + path by the usage ingest.
 */
export interface ShadowRow {
  id: string;
  environment: string;
  apiId: string | null;
  apiName: string | null;
  method: string;
  path: string;
  requestCount: number;
  distinctKeys: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

const listInput = z.object({ environment: z.string().max(100).optional(), limit: z.number().int().min(1).max(1000).default(500) });

export async function listShadowEndpoints(actor: Actor, raw: unknown = {}, client: PrismaClient = db()): Promise<ShadowRow[]> {
  authorize(actor, "inventory:read");
  const parsed = listInput.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  const { environment, limit } = parsed.data;
  return client.$queryRaw<ShadowRow[]>`
    SELECT s.id, e.name AS environment, s."apiId", a.name AS "apiName", s.method, s.path,
           s."requestCount"::float8 AS "requestCount", s."distinctKeys", s."firstSeenAt", s."lastSeenAt"
    FROM "ShadowEndpoint" s
    JOIN "Environment" e ON e.id = s."environmentId"
    LEFT JOIN "Api" a ON a.id = s."apiId"
    WHERE s."dismissedAt" IS NULL AND (${environment ?? null}::text IS NULL OR e.name = ${environment ?? null})
    ORDER BY a.name NULLS LAST, s.path, s.method
    LIMIT ${limit}`;
}

export const dismissShadowInput = z.object({ id: z.uuid(), reason: z.string().trim().min(3, "say why (at least 3 characters)").max(500) });

export async function dismissShadowEndpoint(actor: Actor, raw: unknown, client: PrismaClient = db()): Promise<void> {
  authorize(actor, "discovery:triage");
  const parsed = dismissShadowInput.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  await client.$transaction(async (tx) => {
    const row = await tx.shadowEndpoint.findUnique({ where: { id: parsed.data.id } });
    if (!row) throw notFound("Shadow endpoint");
    if (row.dismissedAt) throw conflict("Already dismissed");
    await tx.shadowEndpoint.update({ where: { id: row.id }, data: { dismissedAt: new Date(), dismissReason: parsed.data.reason } });
    await appendAuditEvent(tx, { actor, action: "discovery.shadow_dismiss", target: `shadow:${row.id}`, data: { method: row.method, path: row.path, reason: parsed.data.reason } });
  });
}

export const addShadowInput = z.object({
  id: z.uuid(),
  scopeName: z.string().trim().regex(/^[A-Za-z0-9_.:\-/]{1,100}$/, "letters, digits and _ . : - / only").optional(),
});

/**
 * Documents a shadow endpoint: creates the endpoint (path relative to its API)
 * requiring one scope (given, or `<first segment>:<read|write>`), pushes the
 * route to the proxies through the outbox, and closes the shadow row — one transaction.
 */
export async function addShadowToInventory(actor: Actor, raw: unknown, client: PrismaClient = db()) {
  authorize(actor, "inventory:write");
  const parsed = addShadowInput.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  const result = await client.$transaction(async (tx) => {
    const row = await tx.shadowEndpoint.findUnique({ where: { id: parsed.data.id } });
    if (!row) throw notFound("Shadow endpoint");
    if (row.dismissedAt) throw conflict("This shadow endpoint was already handled");
    if (!row.apiId) throw badRequest("The proxy could not tell which API this path belongs to; create the endpoint on the API's page instead", "id");
    const api = await tx.api.findUniqueOrThrow({ where: { id: row.apiId } });
    const prefix = await prefixInSnapshot(tx, api.environmentId, api.id);
    // The reported path starts with the API's prefix, whose segments the proxy may have folded
    // into {param} too (a prefix like /billing-v2-2024 looks opaque), so drop it by segment count.
    const depth = prefix.split("/").filter(Boolean).length;
    const pathTemplate = "/" + row.path.split("/").filter(Boolean).slice(depth).join("/");
    const exists = await tx.endpoint.findUnique({ where: { apiId_method_pathTemplate: { apiId: api.id, method: row.method, pathTemplate } } });
    if (exists) throw conflict(`${row.method} ${pathTemplate} is already in the inventory`);
    const first = pathTemplate.split("/").find((s) => s && !s.startsWith("{")) ?? "api";
    const scopeName = parsed.data.scopeName ?? `${first}:${inferLevel("", row.method)}`;
    const scope =
      (await tx.scope.findUnique({ where: { apiId_name: { apiId: api.id, name: scopeName } } })) ??
      (await tx.scope.create({ data: { apiId: api.id, name: scopeName, level: inferLevel(scopeName, row.method), description: "added from a shadow endpoint" } }));
    const endpoint = await tx.endpoint.create({
      data: { apiId: api.id, method: row.method, pathTemplate, summary: "added from shadow traffic", lastSeenAt: row.lastSeenAt, scopes: { create: { scopeId: scope.id } } },
    });
    await tx.shadowEndpoint.update({ where: { id: row.id }, data: { dismissedAt: new Date(), dismissReason: `added to inventory as ${row.method} ${pathTemplate}` } });
    const outboxRows = await enqueueInventoryChanges(tx, {
      environmentId: api.environmentId,
      idempotencyKey: `shadow-add:${randomUUID()}`,
      api: { id: api.id, name: api.name, upstream: api.baseUrl },
      upsertEndpointIds: [endpoint.id],
      deleteEndpointIds: [],
    });
    await appendAuditEvent(tx, { actor, action: "discovery.shadow_add", target: `endpoint:${endpoint.id}`, data: { shadowId: row.id, method: row.method, pathTemplate, scope: scopeName } });
    return { endpointId: endpoint.id, apiId: api.id, pathTemplate, scopeName, outboxRows };
  });
  if (result.outboxRows > 0) wakeDelivery();
  return result;
}
