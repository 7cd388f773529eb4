import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Client, request } from "undici";
import { snapshotNdjson } from "@/lib/enforcement/snapshot";
import { freePort } from "@/test/support/db";
import { startUpstream, type Upstream } from "@/test/support/upstream";
import { admin, ADMIN_TOKEN, world } from "@/proxy/test-support";
import { nginxPlaneMissing, spawnNginxPlane, type NginxPlane } from "./test-support";

// The nginx data plane keeps every acknowledged revoke: on both workers from
// the next request, across `nginx -s reload`, across kill -9 of nginx (the
// dicts are gone: 503 until the controller has pushed again, never the old
// state), and across kill -9 of the controller (its journal on disk).

const missing = nginxPlaneMissing();
if (missing) console.warn(`[nginx plane] skipped: ${missing}`);

let upstream: Upstream;
let plane: NginxPlane;
let fixture: ReturnType<typeof world>;

/** `n` requests, each on a new connection (so both workers take some): status and worker of each. */
async function burst(target: string, key: string, n = 40): Promise<{ status: number; worker: string | null }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const c = new Client(plane.dataUrl, { pipelining: 0 });
    const res = await c.request({ path: target, method: "GET", headers: { authorization: `Bearer ${key}`, connection: "close" } });
    await res.body.dump();
    out.push({ status: res.statusCode, worker: (res.headers["x-tollgate-worker"] as string | undefined) ?? null });
    await c.close();
  }
  return out;
}

const statuses = (rs: { status: number }[]) => [...new Set(rs.map((r) => r.status))].sort();

describe.skipIf(missing !== null)("nginx data plane: acknowledged revokes hold", () => {
  beforeAll(async () => {
    upstream = await startUpstream();
    fixture = world(upstream.url);
    // The state file lives in the plane's folder, so a restarted controller finds it.
    const dir = mkdtempSync(path.join(os.tmpdir(), "tollgate-nginx-plane-"));
    plane = await spawnNginxPlane({ PROXY_STATE_FILE: path.join(dir, "state.ndjson") }, { data: await freePort(), admin: await freePort() }, 2, dir);
    expect((await admin(plane.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "world", ...fixture.snapshot })).status).toBe(200);
  });
  afterAll(async () => {
    await plane?.stop();
    await upstream?.close();
  });

  test("a revoke acknowledged with 2 workers is denied by both workers on the next requests", async () => {
    const before = await burst("/orders/orders/1", fixture.keys.alice);
    expect(statuses(before)).toEqual([200]);
    const r = await admin(plane.adminUrl, "DELETE", `/admin/v1/grants/${fixture.ids.aliceRead}`, { idempotencyKey: "revoke-read" });
    expect(r.body).toMatchObject({ applied: true });
    // GET /orders/orders needs read only: revoked. GET /orders/orders/{id} also takes write: still allowed.
    const after = await burst("/orders/orders", fixture.keys.alice);
    expect(statuses(after)).toEqual([403]);
    expect(new Set(after.map((x) => x.worker)).size, "both workers answered").toBe(2);
    expect(statuses(await burst("/orders/orders/1", fixture.keys.alice, 4))).toEqual([200]);
  });

  test("nginx -s reload keeps the acknowledged revoke (and the rest of the state)", async () => {
    await plane.reload();
    expect(statuses(await burst("/orders/orders", fixture.keys.alice))).toEqual([403]);
    expect(statuses(await burst("/orders/orders/1", fixture.keys.alice, 4))).toEqual([200]);
  });

  test("kill -9 of one worker: the master starts another, which enforces the revoke from its first request", async () => {
    const [, victim] = plane.nginxPids();
    process.kill(victim, "SIGKILL");
    const until = Date.now() + 10_000;
    while (plane.nginxPids().length < 3 || plane.nginxPids().includes(victim)) {
      if (Date.now() > until) throw new Error("nginx did not replace the worker");
      await new Promise((r) => setTimeout(r, 20));
    }
    const after = await burst("/orders/orders", fixture.keys.alice);
    expect(statuses(after)).toEqual([403]);
    expect(new Set(after.map((x) => x.worker)).size).toBe(2);
  });

  test("kill -9 of nginx, then start: 503 until the controller pushed the state again, then the revoke holds", async () => {
    await plane.killNginx();
    await plane.startNginx();
    const seen: number[] = [];
    const until = Date.now() + 20_000;
    for (;;) {
      const rs = await burst("/orders/orders", fixture.keys.alice, 2);
      seen.push(...rs.map((x) => x.status));
      if (rs.every((x) => x.status === 403) || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect([...new Set(seen)].filter((s) => s !== 503 && s !== 403), "never anything but 503 or 403").toEqual([]);
    expect(statuses(await burst("/orders/orders", fixture.keys.alice))).toEqual([403]);
    expect(statuses(await burst("/orders/orders/1", fixture.keys.alice, 4))).toEqual([200]);
  });

  test("a change nginx cannot take is not acknowledged; the retry is, once nginx is back", async () => {
    await plane.killNginx();
    const r = await admin(plane.adminUrl, "DELETE", `/admin/v1/grants/${fixture.ids.aliceWrite}`, { idempotencyKey: "revoke-write" });
    expect(r.status).toBe(503);
    expect((await admin(plane.adminUrl, "GET", "/admin/v1/ready")).status).toBe(503);
    await plane.startNginx();
    let again;
    for (let i = 0; i < 100; i++) {
      again = await admin(plane.adminUrl, "DELETE", `/admin/v1/grants/${fixture.ids.aliceWrite}`, { idempotencyKey: "revoke-write" });
      if (again.status === 200) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(again!.status).toBe(200);
    expect(statuses(await burst("/orders/orders/1", fixture.keys.alice))).toEqual([403]);
  });

  test("kill -9 of the controller and of nginx: the journal on disk restores every acknowledged revoke", async () => {
    await plane.stopController("SIGKILL");
    await plane.killNginx();
    await plane.startNginx();
    expect(statuses(await burst("/orders/orders/1", fixture.keys.alice, 4))).toEqual([503]);
    await plane.startController();
    const until = Date.now() + 20_000;
    while ((await admin(plane.adminUrl, "GET", "/admin/v1/ready")).status !== 200 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(statuses(await burst("/orders/orders", fixture.keys.alice))).toEqual([403]);
    expect(statuses(await burst("/orders/orders/1", fixture.keys.alice))).toEqual([403]);
    expect(statuses(await burst("/orders/health", fixture.keys.alice, 2))).toEqual([200]);
  });

  test("a streamed replacement onto the ready plane is applied as its difference and reaches the workers", async () => {
    const push = async (grants: typeof fixture.snapshot.grants, key: string) => {
      const body = [...snapshotNdjson({ revision: 1, environment: "production", ...fixture.snapshot, grants, skipped: [] }, key)].join("");
      const r = await request(`${plane.adminUrl}/admin/v1/snapshot`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/x-ndjson" }, body });
      return { status: r.statusCode, body: (await r.body.json()) as { applied?: boolean } };
    };
    // Read granted again, write still gone.
    const back = await push(fixture.snapshot.grants.filter((g) => g.id !== fixture.ids.aliceWrite), "replace-1");
    expect(back).toMatchObject({ status: 200, body: { applied: true } });
    // (Which worker takes a connection is the kernel's choice; the dicts they read are one.)
    expect(statuses(await burst("/orders/orders", fixture.keys.alice))).toEqual([200]);
    expect(statuses(await burst("/orders/orders/export", fixture.keys.alice, 8))).toEqual([403]);
    // A replacement that leaves a grant out removes it on every worker.
    expect((await push(fixture.snapshot.grants.filter((g) => g.id !== fixture.ids.aliceWrite && g.id !== fixture.ids.aliceRead), "replace-2")).status).toBe(200);
    expect(statuses(await burst("/orders/orders", fixture.keys.alice))).toEqual([403]);
    expect((await admin(plane.adminUrl, "GET", "/admin/v1/ready")).status).toBe(200);
  });
});
