import type { Tx } from "@/lib/db";
import { apiPrefix, assignPrefixes, type KeyLocation } from "@/lib/enforcement/prefixes";
import { httpUrl } from "@/lib/enforcement/snapshot";
import { groupSets } from "@/proxy/requirements";

/**
 * Inventory changes reach the proxies like decisions do: one outbox row per
 * proxy of the environment, written in the import's transaction, carrying a
 * `POST /admin/v1/batch` body (docs/ARCHITECTURE.md). lib/enforcement's
 * enqueueBatch is keyed by a Decision (a foreign key) and types grant ops
 * only, so imports insert their rows here with decisionId null.
 */
export type InventoryOp =
  | { op: "upsert"; kind: "api"; value: { id: string; name: string; prefix: string; upstream: string; keyLocation?: KeyLocation } }
  | { op: "upsert"; kind: "route"; value: { id: string; apiId: string; method: string; pathTemplate: string; requirements: string[][]; public: boolean } }
  | { op: "delete"; kind: "route"; id: string };

// Same rules as lib/enforcement/snapshot.ts (and its httpUrl): what the proxy cannot match is left
// out (the snapshot lists it as skipped) instead of failing the whole batch.
const TEMPLATE = /^\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\})?(\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\}))*\/?$/;

export async function enqueueInventoryChanges(
  tx: Tx,
  change: {
    environmentId: string;
    idempotencyKey: string;
    /** upstream = the API's baseUrl: the proxy only knows APIs with an http(s) one. */
    api: { id: string; name: string; upstream: string };
    upsertEndpointIds: string[];
    deleteEndpointIds: string[];
  },
): Promise<number> {
  const proxies = await tx.proxy.findMany({ where: { environmentId: change.environmentId }, select: { id: true } });
  if (proxies.length === 0) return 0;
  if (!httpUrl(change.api.upstream)) return 0; // the proxy does not know this API; nothing of it to send
  // The API itself is upserted every time (idempotent): a proxy that has not seen
  // it yet (created by this import, or added since the last snapshot) learns it here.
  const ops: InventoryOp[] = [];
  const prefix = await prefixInSnapshot(tx, change.environmentId, change.api.id);
  // An upsert replaces the proxy's entry whole: an API imported from Kong keeps its key location.
  const own = await tx.api.findUnique({ where: { id: change.api.id }, select: { keyLocation: true } });
  const keyLocation = (own?.keyLocation ?? null) as KeyLocation | null;
  ops.push({ op: "upsert", kind: "api", value: { ...change.api, upstream: change.api.upstream.replace(/\/+$/, ""), prefix, ...(keyLocation ? { keyLocation } : {}) } });
  const deletes = [...change.deleteEndpointIds];
  if (change.upsertEndpointIds.length) {
    for (const r of await routeRows(tx, change.upsertEndpointIds)) {
      // An endpoint an admin stopped routing (a zombie, zombies.ts) stays out of the proxy: the proxy
      // answers it like any unknown route.
      if (r.routingStopped) deletes.push(r.id);
      else if (TEMPLATE.test(r.pathTemplate)) {
        const requirements = groupSets(r.links, (l) => l.requirementId, (l) => l.scopeId);
        ops.push({ op: "upsert", kind: "route", value: { id: r.id, apiId: r.apiId, method: r.method, pathTemplate: r.pathTemplate, public: r.public, requirements } });
      }
    }
  }
  for (const id of deletes) ops.push({ op: "delete", kind: "route", id });
  if (ops.length === 1 && change.upsertEndpointIds.length + change.deleteEndpointIds.length === 0) return 0; // nothing changed
  const body = { idempotencyKey: change.idempotencyKey, ops };
  // The body as one text parameter cast to jsonb: Prisma's Json serialisation took over a minute on
  // the 10 MB body of a 50,000-route import (issue 17).
  await tx.$executeRaw`
    INSERT INTO "OutboxItem" ("proxyId", "idempotencyKey", operation, payload)
    SELECT p, ${change.idempotencyKey}, 'POST /admin/v1/batch', ${JSON.stringify(body)}::jsonb FROM unnest(${proxies.map((p) => p.id)}::uuid[]) AS p`;
  await tx.$executeRawUnsafe(`SELECT pg_notify('tollgate_outbox', '')`);
  return proxies.length;
}

/**
 * Each endpoint with its (requirementId, scopeId) links, for grouping into canonical sets, in one query
 * over an array (a 50,000-endpoint import sends them all; an IN list of that size exceeds Postgres's
 * bind-parameter limit, and Prisma's relation loading of it took over a minute).
 */
async function routeRows(tx: Tx, ids: string[]) {
  return tx.$queryRaw<
    { id: string; apiId: string; method: string; pathTemplate: string; public: boolean; routingStopped: boolean; links: { requirementId: string; scopeId: string }[] }[]
  >`
    SELECT e.id, e."apiId", e.method, e."pathTemplate", e.public, e."routingStoppedAt" IS NOT NULL AS "routingStopped",
           coalesce(json_agg(json_build_object('requirementId', es."requirementId", 'scopeId', es."scopeId")) FILTER (WHERE es."scopeId" IS NOT NULL), '[]'::json) AS links
    FROM "Endpoint" e LEFT JOIN "EndpointScope" es ON es."endpointId" = e.id
    WHERE e.id = ANY(${ids}::uuid[])
    GROUP BY e.id`;
}

/** The prefix buildProxySnapshot gives this API: same order (name, id), same rules (lib/enforcement/prefixes.ts). */
export async function prefixInSnapshot(tx: Tx, environmentId: string, apiId: string): Promise<string> {
  const rows = await tx.api.findMany({ where: { environmentId }, select: { id: true, name: true, baseUrl: true, proxyPrefix: true }, orderBy: [{ name: "asc" }, { id: "asc" }] });
  const prefixes = assignPrefixes(rows.filter((a) => httpUrl(a.baseUrl)));
  return prefixes.get(apiId) ?? apiPrefix(rows.find((r) => r.id === apiId)?.name ?? "api");
}
