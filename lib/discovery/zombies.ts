import { randomUUID } from "node:crypto";
import { z } from "zod";
import { actorLabel, authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { conflict, fromZod, notFound } from "@/lib/errors";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { enqueueInventoryChanges } from "./openapi/outbox";

/**
 * Zombie endpoints (issue 17, point 3): endpoints the description no longer
 * lists (kept, deprecated, because grants on their scopes exist) that still
 * receive traffic or still have holders. The proxy kept routing them with only
 * a badge to show for it; now they have a view, a finding per zombie with
 * traffic in the window, and an admin action that stops routing one, enforced
 * through the outbox like any decision (the proxy then answers it like a route
 * it does not know).
 */
export const ZOMBIE_WINDOW_DAYS = 30;

export interface ZombieRow {
  id: string;
  apiId: string;
  apiName: string;
  environment: string;
  method: string;
  pathTemplate: string;
  deprecatedAt: Date;
  requestsInWindow: number;
  lastSeenAt: Date | null;
  activeGrants: number;
  routingStoppedAt: Date | null;
  routingStoppedBy: string | null;
  openFindingId: string | null;
}

const listInput = z.object({
  environment: z.string().max(100).optional(),
  windowDays: z.number().int().min(1).max(365).default(ZOMBIE_WINDOW_DAYS),
  limit: z.number().int().min(1).max(1000).default(500),
});

export async function listZombieEndpoints(actor: Actor, raw: unknown = {}, client: PrismaClient = db()): Promise<ZombieRow[]> {
  authorize(actor, "inventory:read");
  const parsed = listInput.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  const { environment, windowDays, limit } = parsed.data;
  return client.$queryRaw<ZombieRow[]>`
    SELECT e.id, a.id AS "apiId", a.name AS "apiName", env.name AS environment, e.method, e."pathTemplate", e."deprecatedAt",
           coalesce(u.n, 0)::float8 AS "requestsInWindow", e."lastSeenAt", coalesce(g.n, 0)::int AS "activeGrants",
           e."routingStoppedAt", e."routingStoppedBy", f.id AS "openFindingId"
    FROM "Endpoint" e
    JOIN "Api" a ON a.id = e."apiId"
    JOIN "Environment" env ON env.id = a."environmentId"
    LEFT JOIN LATERAL (SELECT sum(d."requestCount") AS n FROM "EndpointUsageDaily" d
                       WHERE d."endpointId" = e.id AND d.day >= current_date - ${windowDays}::int) u ON true
    LEFT JOIN LATERAL (SELECT count(DISTINCT gr.id) AS n FROM "EndpointScope" es JOIN "Grant" gr ON gr."scopeId" = es."scopeId"
                       WHERE es."endpointId" = e.id AND gr.status = 'active') g ON true
    LEFT JOIN "EndpointFinding" f ON f."endpointId" = e.id AND f.rule = 'zombie_traffic' AND f.status = 'open'
    WHERE e."deprecatedAt" IS NOT NULL AND (coalesce(u.n, 0) > 0 OR coalesce(g.n, 0) > 0)
      AND (${environment ?? null}::text IS NULL OR env.name = ${environment ?? null})
    ORDER BY coalesce(u.n, 0) DESC, a.name, e."pathTemplate", e.method
    LIMIT ${limit}`;
}

/**
 * Opens a `zombie_traffic` finding (high) for every deprecated endpoint, still routed, with
 * traffic in the window — among `endpointIds`, or all of one API. At most one open per endpoint.
 */
export async function openZombieFindings(tx: Tx, scope: { endpointIds: string[] } | { apiId: string }, windowDays = ZOMBIE_WINDOW_DAYS): Promise<number> {
  const ids = "endpointIds" in scope ? scope.endpointIds : null;
  if (ids && ids.length === 0) return 0;
  const apiId = "apiId" in scope ? scope.apiId : null;
  return tx.$executeRaw`
    INSERT INTO "EndpointFinding" (id, "endpointId", "environmentId", rule, severity, evidence)
    SELECT gen_random_uuid(), e.id, a."environmentId", 'zombie_traffic', 'high',
           jsonb_build_object('endpoint', e.method || ' ' || e."pathTemplate", 'api', a.name, 'deprecatedAt', e."deprecatedAt",
                              'requestsInWindow', u.n, 'windowDays', ${windowDays}::int, 'lastSeenAt', e."lastSeenAt",
                              'why', 'the endpoint is no longer in the API description but the proxy still routes requests to it')
    FROM "Endpoint" e
    JOIN "Api" a ON a.id = e."apiId"
    JOIN LATERAL (SELECT sum(d."requestCount") AS n FROM "EndpointUsageDaily" d
                  WHERE d."endpointId" = e.id AND d.day >= current_date - ${windowDays}::int) u ON u.n > 0
    WHERE e."deprecatedAt" IS NOT NULL AND e."routingStoppedAt" IS NULL
      AND (${ids}::uuid[] IS NULL OR e.id = ANY(${ids}::uuid[]))
      AND (${apiId}::uuid IS NULL OR e."apiId" = ${apiId}::uuid)
    ON CONFLICT ("endpointId", rule) WHERE status = 'open' DO NOTHING`;
}

/** Open zombie findings of endpoints that are zombies no longer (back in the description, or no longer routed). */
export async function resolveZombieFindings(tx: Tx, endpointIds: string[], by: string, reason: string): Promise<number> {
  if (endpointIds.length === 0) return 0;
  return tx.$executeRaw`
    UPDATE "EndpointFinding" SET status = 'resolved', "closedAt" = now(), "closedBy" = ${by}, "closedReason" = ${reason}
    WHERE "endpointId" = ANY(${endpointIds}::uuid[]) AND rule = 'zombie_traffic' AND status = 'open'`;
}

export const stopZombieInput = z.object({ endpointId: z.uuid(), reason: z.string().trim().min(3, "say why (at least 3 characters)").max(500) });

/**
 * Stops routing a zombie endpoint: marks it, queues a route delete for every proxy of its
 * environment (the outbox, as for decisions), resolves its zombie finding, audits — one transaction.
 * Only a deprecated endpoint can be stopped here; a live one is changed through its description.
 */
export async function stopRoutingZombie(actor: Actor, raw: unknown, client: PrismaClient = db()) {
  authorize(actor, "inventory:write");
  const parsed = stopZombieInput.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  const { endpointId, reason } = parsed.data;
  const result = await client.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Endpoint" WHERE id = ${endpointId}::uuid FOR UPDATE`;
    const endpoint = await tx.endpoint.findUnique({ where: { id: endpointId }, include: { api: true } });
    if (!endpoint) throw notFound("Endpoint");
    if (!endpoint.deprecatedAt) throw conflict(`${endpoint.method} ${endpoint.pathTemplate} is in the API description: change the description to stop it`);
    if (endpoint.routingStoppedAt) throw conflict(`${endpoint.method} ${endpoint.pathTemplate} is already not routed`);
    const by = actorLabel(actor);
    await tx.endpoint.update({ where: { id: endpointId }, data: { routingStoppedAt: new Date(), routingStoppedBy: by, routingStopReason: reason } });
    const outboxRows = await enqueueInventoryChanges(tx, {
      environmentId: endpoint.api.environmentId,
      idempotencyKey: `zombie-stop:${randomUUID()}`,
      api: { id: endpoint.api.id, name: endpoint.api.name, upstream: endpoint.api.baseUrl },
      upsertEndpointIds: [],
      deleteEndpointIds: [endpointId],
    });
    const findingsResolved = await resolveZombieFindings(tx, [endpointId], by, `routing stopped: ${reason}`);
    await appendAuditEvent(tx, {
      actor,
      action: "discovery.zombie_stop_routing",
      target: `endpoint:${endpointId}`,
      data: { api: endpoint.api.name, method: endpoint.method, pathTemplate: endpoint.pathTemplate, reason, outboxRows, findingsResolved },
    });
    return { endpointId, outboxRows, findingsResolved };
  });
  if (result.outboxRows > 0) wakeDelivery();
  return result;
}
