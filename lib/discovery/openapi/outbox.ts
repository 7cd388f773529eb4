import type { Tx } from "@/lib/db";
import { apiPrefix, assignPrefixes, type KeyLocation } from "@/lib/enforcement/prefixes";
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

// Same rules as lib/enforcement/snapshot.ts: what the proxy cannot match is left
// out (the snapshot lists it as skipped) instead of failing the whole batch.
const TEMPLATE = /^\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\})?(\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\}))*\/?$/;
function httpUrl(u: string): boolean {
  try {
    const p = new URL(u);
    return (p.protocol === "http:" || p.protocol === "https:") && !p.search && !p.hash;
  } catch {
    return false;
  }
}

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
  if (change.upsertEndpointIds.length) {
    const routes = await tx.endpoint.findMany({
      where: { id: { in: change.upsertEndpointIds } },
      select: { id: true, apiId: true, method: true, pathTemplate: true, public: true, scopes: { select: { scopeId: true, requirementId: true } } },
    });
    for (const r of routes) {
      if (!TEMPLATE.test(r.pathTemplate)) continue;
      ops.push({ op: "upsert", kind: "route", value: { id: r.id, apiId: r.apiId, method: r.method, pathTemplate: r.pathTemplate, public: r.public, requirements: groupSets(r.scopes, (s) => s.requirementId, (s) => s.scopeId) } });
    }
  }
  for (const id of change.deleteEndpointIds) ops.push({ op: "delete", kind: "route", id });
  if (ops.length === 1 && change.upsertEndpointIds.length + change.deleteEndpointIds.length === 0) return 0; // nothing changed
  const body = { idempotencyKey: change.idempotencyKey, ops };
  await tx.outboxItem.createMany({
    data: proxies.map((p) => ({ proxyId: p.id, idempotencyKey: change.idempotencyKey, operation: "POST /admin/v1/batch", payload: body as unknown as object })),
  });
  await tx.$executeRawUnsafe(`SELECT pg_notify('tollgate_outbox', '')`);
  return proxies.length;
}

/** The prefix buildProxySnapshot gives this API: same order (name, id), same rules (lib/enforcement/prefixes.ts). */
export async function prefixInSnapshot(tx: Tx, environmentId: string, apiId: string): Promise<string> {
  const rows = await tx.api.findMany({ where: { environmentId }, select: { id: true, name: true, baseUrl: true, proxyPrefix: true }, orderBy: [{ name: "asc" }, { id: "asc" }] });
  const prefixes = assignPrefixes(rows.filter((a) => httpUrl(a.baseUrl)));
  return prefixes.get(apiId) ?? apiPrefix(rows.find((r) => r.id === apiId)?.name ?? "api");
}
