import { Readable } from "node:stream";
import { systemActor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import type { PrismaClient } from "@/lib/db";
import { adminRequest, describeFailure, mutationResult, proxyState } from "./admin-client";
import { buildProxySnapshot, snapshotNdjson, type ProxySnapshot } from "./snapshot";

export interface ReconcileResult {
  proxy: string;
  outcome: "in_sync" | "repaired" | "skipped_pending" | "unreachable" | "failed";
  detail?: string;
  revision?: number;
}

const reconciler = systemActor("reconciler");
type Counts = { apis: number; routes: number; credentials: number; grants: number };
const countsOf = (s: ProxySnapshot): Counts => ({ apis: s.apis.length, routes: s.routes.length, credentials: s.credentials.length, grants: s.grants.length });
const sameCounts = (a: Counts, b: Counts) => a.apis === b.apis && a.routes === b.routes && a.credentials === b.credentials && a.grants === b.grants;

/**
 * Periodic drift repair: ask each proxy for its state and compare it with what
 * the database says the environment should look like. A proxy that restarted
 * empty (not ready) or whose counts drifted gets the full snapshot pushed.
 * While decisions are still on their way to a proxy its counts are expected
 * to lag, so it is left alone unless it is not ready at all.
 */
export async function reconcileProxies(client: PrismaClient): Promise<ReconcileResult[]> {
  const proxies = await client.proxy.findMany({ include: { environment: { select: { name: true } } }, orderBy: { name: "asc" } });
  const snapshots = new Map<string, Promise<ProxySnapshot>>();
  const results: ReconcileResult[] = [];
  for (const proxy of proxies) {
    const snapshotFor = () => {
      let s = snapshots.get(proxy.environmentId);
      if (!s) snapshots.set(proxy.environmentId, (s = buildProxySnapshot(reconciler, { environment: proxy.environment.name }, client)));
      return s;
    };
    results.push(await reconcileOne(client, proxy, snapshotFor));
  }
  return results;
}

async function reconcileOne(
  client: PrismaClient,
  proxy: { id: string; name: string; adminUrl: string; adminToken: string },
  snapshotFor: () => Promise<ProxySnapshot>,
): Promise<ReconcileResult> {
  const fail = async (outcome: "unreachable" | "failed", detail: string): Promise<ReconcileResult> => {
    await client.proxy.update({ where: { id: proxy.id }, data: { lastError: detail } });
    return { proxy: proxy.name, outcome, detail };
  };
  let state;
  try {
    const res = await adminRequest(proxy, "GET", "/admin/v1/state");
    if (res.status !== 200) return fail("unreachable", describeFailure(res));
    const parsed = proxyState.safeParse(res.body);
    if (!parsed.success) return fail("failed", "unexpected /admin/v1/state response");
    state = parsed.data;
  } catch (e) {
    return fail("unreachable", (e as Error).message);
  }
  if (state.ready) {
    const pending = await client.outboxItem.count({ where: { proxyId: proxy.id, status: { not: "applied" } } });
    if (pending > 0) return { proxy: proxy.name, outcome: "skipped_pending", detail: `${pending} deliveries still pending`, revision: state.revision };
  }
  const snapshot = await snapshotFor();
  const expected = countsOf(snapshot);
  if (state.ready && sameCounts(state.counts, expected)) {
    await client.proxy.update({ where: { id: proxy.id }, data: { lastRevision: state.revision, lastSyncAt: new Date(), lastError: null } });
    return { proxy: proxy.name, outcome: "in_sync", revision: state.revision };
  }
  const why = state.ready ? `drift: proxy has ${JSON.stringify(state.counts)}, expected ${JSON.stringify(expected)}` : "proxy is not ready (restarted empty)";
  // Streamed as NDJSON: the proxy builds the state line by line, so a million grants
  // is never one 200 MB JSON body on either side.
  const body = Readable.from(snapshotNdjson(snapshot, `reconcile:${proxy.id}:${Date.now()}`));
  let revision: number;
  try {
    const res = await adminRequest(proxy, "PUT", "/admin/v1/snapshot", body, 120_000, "application/x-ndjson");
    const ack = mutationResult.safeParse(res.body);
    if (res.status !== 200 || !ack.success) return fail("failed", `snapshot push refused: ${describeFailure(res)}`);
    revision = ack.data.revision;
  } catch (e) {
    return fail("unreachable", (e as Error).message);
  }
  await client.$transaction(async (tx) => {
    await tx.proxy.update({ where: { id: proxy.id }, data: { lastRevision: revision, lastSyncAt: new Date(), lastError: null } });
    await appendAuditEvent(tx, { actor: reconciler, action: "proxy.reconcile", target: `proxy:${proxy.id}`, data: { reason: why, revision, counts: expected } });
  });
  return { proxy: proxy.name, outcome: "repaired", detail: why, revision };
}
