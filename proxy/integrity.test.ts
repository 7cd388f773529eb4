import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, describe, expect, test } from "vitest";
import { snapshotNdjson } from "@/lib/enforcement/snapshot";
import { freePort } from "@/test/support/db";
import { until } from "@/test/support/until";
import { Core } from "./core";
import { hasEncodedSpecial } from "./normalize";
import { DamagedState } from "./store";
import { admin, call, spawnProxy, world } from "./test-support";

// Persisted state that does not verify must fail closed, and what reaches an
// upstream must be exactly what was matched (docs/ARCHITECTURE.md, "Proxy state
// and failing closed" and "Enforcement proxy data plane").

const log = pino({ level: "silent" });
const dirs: string[] = [];
const tmpDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "tollgate-integrity-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An upstream that records the headers of every request it gets. */
async function recordingUpstream() {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  return { server, seen, url: await listen(server) };
}

/**
 * A dashboard serving `GET /api/v1/proxy/snapshot` from the dashboard's own
 * NDJSON serializer; it answers 503 until `up` is set.
 */
async function fakeDashboard(snapshot: ReturnType<typeof world>["snapshot"], opts: { up: boolean; delayMs?: number }) {
  let pulls = 0;
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url?.startsWith("/api/v1/proxy/snapshot")) {
      pulls++;
      if (!opts.up) return void res.writeHead(503).end();
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        res.end([...snapshotNdjson({ revision: 50, environment: "production", ...snapshot, skipped: [] })].join(""));
      }, opts.delayMs ?? 0);
      return;
    }
    res.writeHead(req.method === "POST" ? 200 : 404).end("{}");
  });
  const url = await listen(server);
  return { server, url, opts, pulls: () => pulls };
}

const withoutGrant = (s: ReturnType<typeof world>["snapshot"], id: string) => ({ ...s, grants: s.grants.filter((g) => g.id !== id) });

/** Files of the state directory named "<base>.damaged-…", with their contents. */
function damaged(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.includes(".damaged-"))
      .map((f) => [f, readFileSync(path.join(dir, f), "utf8")]),
  );
}

/** While not ready: data plane 503, forward-auth 403, /admin/v1/ready 503. */
/**
 * The small world in front of a recording upstream, persisted: a state file in a temp
 * dir holding its snapshot, written by a Core that is still open (`compactEvery` batches
 * between compactions).
 */
async function persistedWorld(compactEvery = 1_000) {
  const up = await recordingUpstream();
  const w = world(up.url);
  const dir = tmpDir();
  const file = path.join(dir, "state.ndjson");
  const core = new Core("production", file, compactEvery, log);
  await core.replace("snap", "h0", { idempotencyKey: "snap", ...w.snapshot });
  return { up, w, dir, file, core };
}

async function expectClosed(proxy: Awaited<ReturnType<typeof spawnProxy>>, key: string) {
  expect((await call(proxy.dataUrl, "GET", "/orders/orders", { "x-api-key": key })).status).toBe(503);
  expect((await call(proxy.dataUrl, "GET", "/_tollgate/auth", { "x-api-key": key, "x-original-method": "GET", "x-original-uri": "/orders/orders" })).status).toBe(403);
  expect((await admin(proxy.adminUrl, "GET", "/admin/v1/ready")).status).toBe(503);
}

describe("persisted state that does not verify", { timeout: 180_000 }, () => {
  test("one corrupted middle journal line: not ready, files kept aside, ready after a verified pull with the revoke enforced", async () => {
    const { up, w, dir, file, core } = await persistedWorld();
    await core.mutate("d1", "h1", [{ op: "upsert", kind: "grant", value: { id: randomUUID(), principalId: w.ids.bob, scopeId: w.ids.writeScope, expiresAt: null } }]);
    await core.mutate("d2", "h2", [{ op: "upsert", kind: "grant", value: { id: randomUUID(), principalId: w.ids.bob, scopeId: randomUUID(), expiresAt: null } }]);
    await core.mutate("d3", "h3", [{ op: "delete", kind: "grant", id: w.ids.aliceRead }]); // the acknowledged revoke, line 3
    await core.close();
    const journal = readFileSync(file + ".journal", "utf8").split("\n");
    expect(journal.length).toBe(4); // three lines and the final newline
    journal[1] = "X" + journal[1].slice(1); // one changed byte at the start of the middle line
    writeFileSync(file + ".journal", journal.join("\n"));
    const corrupted = readFileSync(file + ".journal", "utf8");
    const snapshotBefore = readFileSync(file, "utf8");

    // In process first: the load is refused and nothing is served from it.
    const probe = new Core("production", file, 1_000, log);
    await expect(probe.loadPersisted()).rejects.toBeInstanceOf(DamagedState);
    expect(probe.ready).toBe(false);
    const kept = damaged(dir);
    expect([...kept.values()].sort()).toEqual([corrupted, snapshotBefore].sort());
    // Put the set back as it was, for the real proxy.
    for (const [name, text] of kept) {
      writeFileSync(path.join(dir, name.replace(/\.damaged-.*$/, "")), text);
      rmSync(path.join(dir, name));
    }

    const dashboard = await fakeDashboard(withoutGrant(w.snapshot, w.ids.aliceRead), { up: false });
    const proxy = await spawnProxy({ PROXY_STATE_FILE: file, DASHBOARD_URL: dashboard.url, DASHBOARD_TOKEN: "tgs_pull" }, { data: await freePort(), admin: await freePort() });
    try {
      await until("two failed pulls", async () => dashboard.pulls(), (n) => n >= 2);
      await expectClosed(proxy, w.keys.alice);
      expect(proxy.output()).toMatch(/checksum mismatch/);
      const aside = damaged(dir);
      expect([...aside.values()].sort()).toEqual([corrupted, snapshotBefore].sort());

      dashboard.opts.up = true;
      await until("ready", () => admin(proxy.adminUrl, "GET", "/admin/v1/ready"), (r) => r.status === 200);
      expect((await call(proxy.dataUrl, "GET", "/orders/orders", { "x-api-key": w.keys.alice })).status).toBe(403); // revoked: still
      expect((await call(proxy.dataUrl, "GET", "/orders/orders/1", { "x-api-key": w.keys.alice })).status).toBe(200); // alice's write grant
      // The damaged files are still there, unchanged, beside the new state.
      expect(damaged(dir)).toEqual(aside);
    } finally {
      await proxy.stop("SIGKILL");
      dashboard.server.close();
      up.server.close();
    }
  });

  test("one flipped byte in the snapshot (still valid JSON): not ready, file kept aside, ready after a verified pull", async () => {
    const { up, w, dir, file, core } = await persistedWorld(1); // compacts after every batch: the revoke lands in the snapshot
    await core.mutate("d1", "h1", [{ op: "delete", kind: "grant", id: w.ids.aliceRead }]);
    await core.settled();
    await core.close();
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(w.ids.aliceRead);
    const hash = w.snapshot.credentials[1].hash; // bob's key, a middle line
    const at = text.indexOf(hash) + 10;
    const flipped = text.slice(0, at) + (text[at] === "a" ? "b" : "a") + text.slice(at + 1);
    writeFileSync(file, flipped);

    const dashboard = await fakeDashboard(withoutGrant(w.snapshot, w.ids.aliceRead), { up: false });
    const proxy = await spawnProxy({ PROXY_STATE_FILE: file, DASHBOARD_URL: dashboard.url, DASHBOARD_TOKEN: "tgs_pull" }, { data: await freePort(), admin: await freePort() });
    try {
      await until("two failed pulls", async () => dashboard.pulls(), (n) => n >= 2);
      await expectClosed(proxy, w.keys.bob);
      expect([...damaged(dir).values()]).toEqual([flipped]);

      dashboard.opts.up = true;
      await until("ready", () => admin(proxy.adminUrl, "GET", "/admin/v1/ready"), (r) => r.status === 200);
      expect((await call(proxy.dataUrl, "GET", "/orders/orders", { "x-api-key": w.keys.alice })).status).toBe(403);
      expect((await call(proxy.dataUrl, "GET", "/orders/orders/1", { "x-api-key": w.keys.alice })).status).toBe(200);
      expect([...damaged(dir).values()]).toEqual([flipped]);
    } finally {
      await proxy.stop("SIGKILL");
      dashboard.server.close();
      up.server.close();
    }
  });
});

describe("verified pull", { timeout: 180_000 }, () => {
  test("a pulled state that does not match the dashboard's content digest is refused; the next, matching one is served", async () => {
    const up = await recordingUpstream();
    const w = world(up.url);
    const good = [...snapshotNdjson({ revision: 7, environment: "production", ...w.snapshot, skipped: [] })].join("");
    // Valid lines, right counts, one grant moved to another scope: only the digest can tell.
    const tampered = good.replace(`"id":"${w.ids.aliceWrite}","principalId":"${w.ids.alice}","scopeId":"${w.ids.writeScope}"`, `"id":"${w.ids.aliceWrite}","principalId":"${w.ids.alice}","scopeId":"${w.ids.readScope}"`);
    expect(tampered).not.toBe(good);
    let pulls = 0;
    const dashboard = http.createServer((req, res) => {
      pulls++;
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.end(pulls === 1 ? tampered : good);
    });
    const url = await listen(dashboard);
    const proxy = await spawnProxy({ DASHBOARD_URL: url, DASHBOARD_TOKEN: "tgs_pull" }, { data: await freePort(), admin: await freePort() });
    try {
      await until("ready", () => admin(proxy.adminUrl, "GET", "/admin/v1/ready"), (r) => r.status === 200);
      expect(pulls).toBeGreaterThanOrEqual(2);
      expect(proxy.output()).toMatch(/the grants received do not match the digest/);
      expect((await call(proxy.dataUrl, "GET", "/orders/orders", { "x-api-key": w.keys.alice })).status).toBe(200);
      expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${w.ids.aliceWrite}`)).body.grant.scopeId).toBe(w.ids.writeScope);
    } finally {
      await proxy.stop("SIGKILL");
      dashboard.close();
      up.server.close();
    }
  });
});

describe("restart", { timeout: 180_000 }, () => {
  test("a fresh pull is preferred over the persisted state: a revoke the file lacks is never served as 200", async () => {
    const { up, w, file, core } = await persistedWorld(); // the file still holds alice's read grant
    await core.close();
    const dashboard = await fakeDashboard(withoutGrant(w.snapshot, w.ids.aliceRead), { up: true, delayMs: 1_000 });
    const proxy = await spawnProxy({ PROXY_STATE_FILE: file, DASHBOARD_URL: dashboard.url, DASHBOARD_TOKEN: "tgs_pull" }, { data: await freePort(), admin: await freePort() });
    try {
      const statuses: number[] = [];
      await until(
        "the pulled state",
        async () => (await call(proxy.dataUrl, "GET", "/orders/orders", { "x-api-key": w.keys.alice })).status,
        (s) => (statuses.push(s), s !== 503),
      );
      expect(statuses.at(-1)).toBe(403);
      expect(statuses).not.toContain(200);
    } finally {
      await proxy.stop("SIGKILL");
      dashboard.server.close();
    }

    // With the dashboard unreachable, the verified persisted state (the pulled one now) is served after the failed first pull.
    const proxy2 = await spawnProxy({ PROXY_STATE_FILE: file, DASHBOARD_URL: `http://127.0.0.1:${await freePort()}`, DASHBOARD_TOKEN: "tgs_pull" }, { data: await freePort(), admin: await freePort() });
    try {
      await until("ready from the file", () => admin(proxy2.adminUrl, "GET", "/admin/v1/ready"), (r) => r.status === 200);
      expect((await call(proxy2.dataUrl, "GET", "/orders/orders", { "x-api-key": w.keys.alice })).status).toBe(403);
      expect((await call(proxy2.dataUrl, "GET", "/orders/orders/1", { "x-api-key": w.keys.alice })).status).toBe(200);
    } finally {
      await proxy2.stop("SIGKILL");
      up.server.close();
    }
  });
});

describe("what reaches the upstream", { timeout: 180_000 }, () => {
  test("path-rewriting headers are stripped; encoded %, /, \\ and dots in the path are a 400", async () => {
    const up = await recordingUpstream();
    const w = world(up.url);
    const proxy = await spawnProxy({}, { data: await freePort(), admin: await freePort() });
    try {
      expect((await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "s", ...w.snapshot })).status).toBe(200);
      const rewrite = {
        "x-original-url": "/admin/users",
        "x-rewrite-url": "/admin/users",
        "x-forwarded-uri": "/admin/users",
        "x-forwarded-prefix": "/admin",
        "x-original-uri": "/admin/users",
      };
      const r = await call(proxy.dataUrl, "GET", "/orders/orders", { "x-api-key": w.keys.alice, ...rewrite });
      expect(r.status).toBe(200);
      expect(up.seen).toHaveLength(1);
      for (const name of Object.keys(rewrite)) expect(up.seen[0][name], name).toBeUndefined();

      for (const p of ["/orders/%252e%252e%252fadmin%252fusers", "/orders/orders/%2e%2e%2fadmin", "/orders/orders/a%2Eb", "/orders/orders/50%25", "/orders/orders/%5c"]) {
        expect((await call(proxy.dataUrl, "GET", p, { "x-api-key": w.keys.alice })).status, p).toBe(400);
        expect((await call(proxy.dataUrl, "GET", "/_tollgate/auth", { "x-api-key": w.keys.alice, "x-original-method": "GET", "x-original-uri": p })).status, p).toBe(403);
      }
      // The query is not a path: an encoded "%" there is the upstream's business.
      expect((await call(proxy.dataUrl, "GET", "/orders/orders?q=50%25", { "x-api-key": w.keys.alice })).status).toBe(200);
      expect(up.seen).toHaveLength(2);
    } finally {
      await proxy.stop("SIGKILL");
      up.server.close();
    }
  });

  test("PROXY_REFUSE_ENCODED_SPECIALS=false keeps the plain normalisation", async () => {
    const up = await recordingUpstream();
    const w = world(up.url);
    const proxy = await spawnProxy({ PROXY_REFUSE_ENCODED_SPECIALS: "false" }, { data: await freePort(), admin: await freePort() });
    try {
      expect((await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "s", ...w.snapshot })).status).toBe(200);
      expect((await call(proxy.dataUrl, "GET", "/orders/orders/50%25", { "x-api-key": w.keys.alice })).status).toBe(200); // /orders/{id}
      expect((await call(proxy.dataUrl, "GET", "/orders/orders/a%2eb", { "x-api-key": w.keys.alice })).status).toBe(200); // "a.b"
      expect((await call(proxy.dataUrl, "GET", "/orders/orders/%2e%2e%2fx", { "x-api-key": w.keys.alice })).status).toBe(400); // %2F: always refused
    } finally {
      await proxy.stop("SIGKILL");
      up.server.close();
    }
  });

  test("hasEncodedSpecial looks at the path only, in either case", () => {
    for (const t of ["/a/%25", "/a/%2f", "/a/%2F", "/a/%5c", "/a/%5C", "/a/%2e", "/a/b%2Ec", "/%252e"]) expect(hasEncodedSpecial(t), t).toBe(true);
    for (const t of ["/a/b", "/a/%41", "/a?x=%25", "/a/%C3%A9", "/a/%", "/a/%2"]) expect(hasEncodedSpecial(t), t).toBe(false);
  });
});
