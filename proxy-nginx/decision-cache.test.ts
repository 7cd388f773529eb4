import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Agent, Client, request } from "undici";
import { freePort } from "@/test/support/db";
import { startUpstream, type Upstream } from "@/test/support/upstream";
import { admin, world } from "@/proxy/test-support";
import { EnforcementState } from "@/proxy/state";
import { controlSocket } from "./generate";
import { topologyJson } from "./mirror";
import { nginxPlaneMissing, spawnNginxPlane, type NginxPlane } from "./test-support";

// The per-worker decision cache of lua/tollgate.lua: a cached allowed decision
// is checked against the credential's and grants' dict entries on every
// request, so a removal takes effect on the next request even when the state's
// revision has not moved (the controller's /remove before its fsync), on both
// workers; and the rewrite target of a cache miss is decided like any path.

const missing = nginxPlaneMissing();
if (missing) console.warn(`[nginx plane] skipped: ${missing}`);

let upstream: Upstream;
let plane: NginxPlane;
let fixture: ReturnType<typeof world>;

/** `n` requests, each on a new connection (so both workers take some): status and worker of each. */
async function burst(target: string, key: string | null, n = 40): Promise<{ status: number; worker: string | null }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const c = new Client(plane.dataUrl, { pipelining: 0 });
    const res = await c.request({ path: target, method: "GET", headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), connection: "close" } });
    await res.body.dump();
    out.push({ status: res.statusCode, worker: (res.headers["x-tollgate-worker"] as string | undefined) ?? null });
    await c.close();
  }
  return out;
}

const statuses = (rs: { status: number }[]) => [...new Set(rs.map((r) => r.status))].sort();

async function control(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const dispatcher = new Agent({ connect: { socketPath: controlSocket(plane.dir) } });
  try {
    const r = await request(`http://control${path}`, { method: body === undefined ? "GET" : "POST", dispatcher, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.statusCode, json: (await r.body.json()) as Record<string, unknown> };
  } finally {
    await dispatcher.close();
  }
}

describe.skipIf(missing !== null)("nginx data plane: the decision cache", () => {
  beforeAll(async () => {
    upstream = await startUpstream();
    fixture = world(upstream.url);
    plane = await spawnNginxPlane({}, { data: await freePort(), admin: await freePort() }, 2);
    expect((await admin(plane.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "world", ...fixture.snapshot })).status).toBe(200);
  });
  afterAll(async () => {
    await plane?.stop();
    await upstream?.close();
  });

  test("a removal that leaves the revision as it was still denies the cached decision on both workers", async () => {
    // Twice over many connections: both workers decide the pair, then serve it from their cache.
    expect(statuses(await burst("/orders/orders", fixture.keys.alice))).toEqual([200]);
    expect(statuses(await burst("/orders/orders", fixture.keys.alice))).toEqual([200]);
    const before = await control("/status");
    const revision = before.json.revision as number;
    // What the controller sends before its fsync: deletes only, the revision unchanged.
    const removed = await control(`/remove?revision=${revision + 1}`, { ops: [{ op: "delete", kind: "grant", id: fixture.ids.aliceRead }] });
    expect(removed.status).toBe(200);
    expect((await control("/status")).json.revision).toBe(revision);
    const after = await burst("/orders/orders", fixture.keys.alice);
    expect(statuses(after)).toEqual([403]);
    expect(new Set(after.map((x) => x.worker)).size, "both workers answered").toBe(2);
  });

  test("the path a cache miss is rewritten to is decided like any other path", async () => {
    for (const key of [null, fixture.keys.alice]) {
      const slow = statuses(await burst("/_tollgate/slow", key, 4));
      const other = statuses(await burst("/_tollgate/slox", key, 4));
      expect(slow).toEqual(other);
      expect(slow).toEqual([key ? 404 : 401]);
    }
  });

  test("a change that arrives only with the ordered ops push (a key's expiry moved into the past) is refused on both workers although their decisions were cached", async () => {
    // Not a delete, so the controller sends nothing early: the state's change counter moves with the /ops write,
    // and each worker checks its cached entry again.
    expect(statuses(await burst("/orders/orders/export", fixture.keys.alice))).toEqual([200]);
    expect(statuses(await burst("/orders/orders/export", fixture.keys.alice))).toEqual([200]);
    const expired = { id: fixture.ids.aliceCred, principalId: fixture.ids.alice, hash: createHash("sha256").update(fixture.keys.alice).digest("hex"), expiresAt: new Date(Date.now() - 1000).toISOString() };
    const r = await admin(plane.adminUrl, "POST", "/admin/v1/batch", { idempotencyKey: "expire-alice-key", ops: [{ op: "upsert", kind: "credential", value: expired }] });
    expect(r.status).toBe(200);
    const after = await burst("/orders/orders/export", fixture.keys.alice);
    expect(statuses(after)).toEqual([401]);
    expect(new Set(after.map((x) => x.worker)).size, "both workers answered").toBe(2);
  });
  test("a full load into a new generation is enforced at once on both workers, past their cached decisions", async () => {
    // What the controller does after a restart or a gap in its log (mirror.ts): a fresh generation, switched in one
    // write. Loaded here through the control socket, with a key of its own, first with the grant and then without,
    // at the controller's own revision (a revision it does not hold would make it load its state over ours).
    const topology = await topologyJson(EnforcementState.fromSnapshot(fixture.snapshot));
    const key = "tg_live_carol_" + randomUUID();
    const carol = randomUUID();
    const credential = { id: randomUUID(), principalId: carol, hash: createHash("sha256").update(key).digest("hex"), expiresAt: null };
    const grant = { id: randomUUID(), principalId: carol, scopeId: fixture.ids.writeScope, expiresAt: null };
    const load = async (grants: unknown[], revision: number) => {
      const { json } = await control("/load/begin", {});
      expect((await control(`/load/chunk?generation=${json.generation}`, { credentials: [credential], grants })).status).toBe(200);
      expect((await control(`/load/commit?generation=${json.generation}&revision=${revision}`, { topology })).status).toBe(200);
    };
    const revision = (await control("/status")).json.revision as number;
    await load([grant], revision);
    expect(statuses(await burst("/orders/orders/export", key))).toEqual([200]);
    expect(statuses(await burst("/orders/orders/export", key))).toEqual([200]);
    await load([], revision);
    const after = await burst("/orders/orders/export", key);
    expect(statuses(after)).toEqual([403]);
    expect(new Set(after.map((x) => x.worker)).size, "both workers answered").toBe(2);
  });
});
