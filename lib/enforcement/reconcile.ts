import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { z } from "zod";
import { systemActor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import type { PrismaClient } from "@/lib/db";
import { adminRequest, describeFailure, mutationResult, proxyState, type ProxyTarget } from "./admin-client";
import { BUCKETS, DIGEST_ALGORITHM, digestSnapshotAsync, entryHash, KINDS, snapshotEntries, bucketOf, type Kind, type StateDigest } from "./digest";
import { buildProxySnapshot, snapshotDigest, snapshotNdjson, type ProxySnapshot } from "./snapshot";

export interface ReconcileResult {
  proxy: string;
  outcome: "in_sync" | "repaired" | "busy" | "unreachable" | "failed";
  detail?: string;
  revision?: number;
}

const reconciler = systemActor("reconciler");

/** More differing buckets than this (of 4 × 256), or more ops than MAX_DIFF_OPS: push the whole state instead of a diff. */
const MAX_DIFF_BUCKETS = 64;
const MAX_DIFF_OPS = 100_000;
/** A proxy receiving decisions while we diff refuses our conditional push (409): try again this many times, then report busy. */
const ATTEMPTS = 3;

const kindDigest = z.object({ count: z.number(), digest: z.string(), buckets: z.array(z.string()).length(BUCKETS) });
const digestResponse = z.object({
  algorithm: z.literal(DIGEST_ALGORITHM),
  revision: z.number().int().nonnegative(),
  kinds: z.object({ api: kindDigest, route: kindDigest, credential: kindDigest, grant: kindDigest }),
});
const entriesResponse = z.object({ revision: z.number().int().nonnegative(), entries: z.array(z.tuple([z.string(), z.string()])) });

type Op = { op: "upsert"; kind: Kind; value: unknown } | { op: "delete"; kind: Kind; id: string };

/** Tests only: runs between the proxy read and the database read, where a concurrent decision can land. */
export interface RaceProbe {
  betweenReads?: () => Promise<void>;
}

class Unreachable extends Error {}
class Refused extends Error {}

/**
 * Periodic drift repair. For each proxy: a proxy that is not ready gets the
 * full state. Otherwise its content digest (GET /admin/v1/digest, per kind and
 * per 256 id buckets) is compared with the same digest of what the database
 * says; where buckets differ, their entry hashes are fetched and only the
 * difference is pushed, as one batch conditioned on the revision the digest
 * was taken at, so a decision delivered meanwhile is never undone. Outbox rows
 * that are pending or failed do not hold repair back: the diff is computed from
 * the database, which already holds every decision.
 */
export async function reconcileProxies(client: PrismaClient, race?: RaceProbe): Promise<ReconcileResult[]> {
  const proxies = await client.proxy.findMany({ include: { environment: { select: { name: true } } }, orderBy: { name: "asc" } });
  const results: ReconcileResult[] = [];
  for (const proxy of proxies) {
    // Built per proxy and per attempt: a snapshot cached across a slow loop would be stale.
    const snapshotFor = () => buildProxySnapshot(reconciler, { environment: proxy.environment.name }, client);
    results.push(await reconcileOne(client, proxy, snapshotFor, race));
  }
  return results;
}

async function reconcileOne(
  client: PrismaClient,
  proxy: { id: string; name: string; adminUrl: string; adminToken: string },
  snapshotFor: () => Promise<ProxySnapshot>,
  race?: RaceProbe,
): Promise<ReconcileResult> {
  const fail = async (outcome: "unreachable" | "failed" | "busy", detail: string): Promise<ReconcileResult> => {
    await client.proxy.update({ where: { id: proxy.id }, data: { lastError: detail } });
    return { proxy: proxy.name, outcome, detail };
  };
  try {
    for (let attempt = 1; ; attempt++) {
      const state = proxyState.safeParse((await get(proxy, "/admin/v1/state")).body);
      if (!state.success) return fail("failed", "unexpected /admin/v1/state response");
      if (!state.data.ready) {
        // Conditioned on the revision seen before the database was read: a decision
        // delivered while the snapshot was being built makes this push a conflict.
        const snapshot = await snapshotFor();
        const revision = await pushFull(proxy, snapshot, state.data.revision);
        if (revision !== "conflict" || attempt >= ATTEMPTS) return await pushed(client, proxy, revision, "proxy is not ready (restarted empty or damaged state)", snapshot);
        continue;
      }

      // The proxy first, the database second. Everything a proxy holds was committed
      // before it was delivered, so a database read taken afterwards is at least as
      // new: a revoke committed and delivered while we work can never be pushed back
      // as a grant (read the other way round, a slow snapshot could re-open it).
      const asOf = Date.now();
      const digest = digestResponse.safeParse((await get(proxy, `/admin/v1/digest?asOf=${asOf}`)).body);
      if (!digest.success) return fail("failed", "unexpected /admin/v1/digest response");
      await race?.betweenReads?.();
      const snapshot = await snapshotFor();
      const expected = await digestSnapshotAsync(snapshot, asOf);
      const differing = differingBuckets(expected, digest.data.kinds);
      if (differing.length === 0) {
        await client.proxy.update({ where: { id: proxy.id }, data: { lastRevision: digest.data.revision, lastSyncAt: new Date(), lastError: null } });
        return { proxy: proxy.name, outcome: "in_sync", revision: digest.data.revision };
      }
      const at = digest.data.revision;
      const why = `drift: ${describeDrift(expected, digest.data.kinds, differing)}`;
      let revision: number | "conflict";
      if (differing.length > MAX_DIFF_BUCKETS) {
        revision = await pushFull(proxy, snapshot, at);
      } else {
        const ops = await diffOps(proxy, snapshot, asOf, differing);
        revision = ops.length > MAX_DIFF_OPS ? await pushFull(proxy, snapshot, at) : await pushDiff(proxy, ops, at);
        if (revision !== "conflict") return await pushed(client, proxy, revision, `${why}; pushed ${ops.length} changes`, snapshot);
      }
      if (revision !== "conflict") return await pushed(client, proxy, revision, `${why}; pushed the full state`, snapshot);
      if (attempt >= ATTEMPTS) return fail("busy", `${why}; the proxy changed while repairing (${ATTEMPTS} attempts), will retry`);
    }
  } catch (e) {
    if (e instanceof Unreachable) return fail("unreachable", e.message);
    if (e instanceof Refused) return fail("failed", e.message);
    throw e;
  }
}

async function get(proxy: ProxyTarget, path: string) {
  let res;
  try {
    res = await adminRequest(proxy, "GET", path, undefined, 60_000);
  } catch (e) {
    throw new Unreachable((e as Error).message);
  }
  if (res.status !== 200) throw new Unreachable(describeFailure(res));
  return res;
}

/** [kind, bucket] pairs whose digests differ. */
function differingBuckets(expected: StateDigest, actual: StateDigest): [Kind, number][] {
  const out: [Kind, number][] = [];
  for (const kind of KINDS) {
    if (expected[kind].digest === actual[kind].digest) continue;
    for (let b = 0; b < BUCKETS; b++) if (expected[kind].buckets[b] !== actual[kind].buckets[b]) out.push([kind, b]);
  }
  return out;
}

function describeDrift(expected: StateDigest, actual: StateDigest, differing: [Kind, number][]): string {
  const kinds = [...new Set(differing.map(([k]) => k))];
  return kinds.map((k) => `${k}s differ in ${differing.filter(([d]) => d === k).length} of ${BUCKETS} buckets (proxy ${actual[k].count}, expected ${expected[k].count})`).join("; ");
}

const hex2 = (b: number) => b.toString(16).padStart(2, "0");

/**
 * The ops that turn the proxy's differing buckets into the expected ones.
 * Deletes first (grants, credentials, routes, then APIs, which take their
 * routes along), then upserts in dependency order: the batch is atomic, so
 * there is no moment at which a half-applied repair is served.
 */
async function diffOps(proxy: ProxyTarget, snapshot: ProxySnapshot, asOf: number, differing: [Kind, number][]): Promise<Op[]> {
  const deletes: Op[] = [];
  const upserts: Op[] = [];
  const expectedByKind = new Map<Kind, Map<string, { value: Record<string, unknown>; hash: string }>>();
  for (const kind of KINDS) {
    const buckets = differing.filter(([k]) => k === kind).map(([, b]) => b);
    if (buckets.length === 0) continue;
    const wanted = new Set(buckets);
    const expected = new Map<string, { value: Record<string, unknown>; hash: string }>();
    for (const e of snapshotEntries(snapshot, asOf)) {
      if (e.kind === kind && wanted.has(bucketOf(e.value.id as string))) expected.set(e.value.id as string, { value: e.value, hash: entryHash(kind, e.value) });
    }
    expectedByKind.set(kind, expected);
    const res = entriesResponse.safeParse((await get(proxy, `/admin/v1/digest/entries?kind=${kind}&buckets=${buckets.map(hex2).join(",")}&asOf=${asOf}`)).body);
    if (!res.success) throw new Refused("unexpected /admin/v1/digest/entries response");
    const actual = new Map(res.data.entries);
    for (const id of actual.keys()) if (!expected.has(id)) deletes.push({ op: "delete", kind, id });
    for (const [id, e] of expected) if (actual.get(id) !== e.hash) upserts.push({ op: "upsert", kind, value: e.value });
  }
  const order = (ops: Op[], kinds: readonly Kind[]) => kinds.flatMap((k) => ops.filter((o) => o.kind === k));
  return [...order(deletes, ["grant", "credential", "route", "api"]), ...order(upserts, KINDS)];
}

async function pushDiff(proxy: ProxyTarget, ops: Op[], ifRevision: number): Promise<number | "conflict"> {
  let res;
  try {
    res = await adminRequest(proxy, "POST", "/admin/v1/batch", { idempotencyKey: `reconcile:${randomUUID()}`, ifRevision, ops }, 120_000);
  } catch (e) {
    throw new Unreachable((e as Error).message);
  }
  return acknowledged(res, "diff push refused");
}

/** The whole state as NDJSON (a million grants never become one JSON body on either side); ifRevision when the proxy is serving. */
async function pushFull(proxy: ProxyTarget, snapshot: ProxySnapshot, ifRevision?: number): Promise<number | "conflict"> {
  const body = Readable.from(snapshotNdjson(snapshot, `reconcile:${randomUUID()}`, ifRevision, await snapshotDigest(snapshot)));
  let res;
  try {
    res = await adminRequest(proxy, "PUT", "/admin/v1/snapshot", body, 120_000, "application/x-ndjson");
  } catch (e) {
    throw new Unreachable((e as Error).message);
  }
  return acknowledged(res, "snapshot push refused");
}

function acknowledged(res: { status: number; body: unknown }, what: string): number | "conflict" {
  if (res.status === 409 && (res.body as { error?: { code?: string } } | null)?.error?.code === "revision_conflict") return "conflict";
  const ack = mutationResult.safeParse(res.body);
  if (res.status !== 200 || !ack.success) throw new Refused(`${what}: ${describeFailure(res)}`);
  return ack.data.revision;
}

async function pushed(client: PrismaClient, proxy: { id: string; name: string }, revision: number | "conflict", why: string, snapshot: ProxySnapshot): Promise<ReconcileResult> {
  if (revision === "conflict") return { proxy: proxy.name, outcome: "busy", detail: `${why}; the proxy changed meanwhile, will retry` };
  const counts = { apis: snapshot.apis.length, routes: snapshot.routes.length, credentials: snapshot.credentials.length, grants: snapshot.grants.length };
  await client.$transaction(async (tx) => {
    await tx.proxy.update({ where: { id: proxy.id }, data: { lastRevision: revision, lastSyncAt: new Date(), lastError: null } });
    await appendAuditEvent(tx, { actor: reconciler, action: "proxy.reconcile", target: `proxy:${proxy.id}`, data: { reason: why, revision, counts } });
  });
  return { proxy: proxy.name, outcome: "repaired", detail: why, revision };
}
