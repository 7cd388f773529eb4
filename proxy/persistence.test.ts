import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, describe, expect, test } from "vitest";
import { snapshotNdjson } from "@/lib/enforcement/snapshot";
import { freePort } from "@/test/support/db";
import { Core } from "./core";
import { admin, call, spawnProxy, world } from "./test-support";

const log = pino({ level: "silent" });
const dirs: string[] = [];
const tmpFile = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "tollgate-persist-"));
  dirs.push(d);
  return path.join(d, "state.ndjson");
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Asks /admin/v1/ready every 100 ms until it answers 200 or `timeoutMs` passed; `meanwhile` runs on each round it is not ready yet. The last answer. */
async function untilReady(adminUrl: string, timeoutMs: number, meanwhile?: () => Promise<void>) {
  const end = Date.now() + timeoutMs;
  let ready = await admin(adminUrl, "GET", "/admin/v1/ready");
  while (ready.status !== 200 && Date.now() < end) {
    await meanwhile?.();
    await new Promise((r) => setTimeout(r, 100));
    ready = await admin(adminUrl, "GET", "/admin/v1/ready");
  }
  return ready;
}

/** The small world, its API in front of an upstream that answers "ok" to everything. */
async function worldBehindUpstream() {
  const upstream = http.createServer((_req, res) => res.end("ok"));
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  return { upstream, w: world(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`) };
}

describe("journal and compaction", () => {
  test("state, revision and idempotency record survive compaction and a torn journal tail", async () => {
    const file = tmpFile();
    const w = world("http://127.0.0.1:1");
    const core = new Core("production", file, 2, log);
    await core.replace("snap", "h0", { idempotencyKey: "snap", ...w.snapshot });
    await core.mutate("d1", "h1", [{ op: "delete", kind: "grant", id: w.ids.aliceRead }]);
    await core.mutate("d2", "h2", [{ op: "delete", kind: "credential", id: w.ids.bobCred }]); // 2 entries: compacts
    const extraGrant = { id: randomUUID(), principalId: w.ids.bob, scopeId: w.ids.writeScope, expiresAt: null };
    await core.mutate("d3", "h3", [{ op: "upsert", kind: "grant", value: extraGrant }]); // journaled after the compaction
    expect(core.revision).toBe(4);
    await core.settled();
    await core.close();
    appendFileSync(file + ".journal", '{"rev":5,"key":"torn","ha'); // a crash mid-append, never acknowledged

    const again = new Core("production", file, 2, log);
    await again.loadPersisted();
    expect(again.revision).toBe(4);
    expect(again.state!.grantsById.has(w.ids.aliceRead)).toBe(false);
    expect(again.state!.credentialsById.has(w.ids.bobCred)).toBe(false);
    expect(again.state!.grantsById.get(extraGrant.id)).toMatchObject({ principalId: w.ids.bob });
    expect(await again.mutate("d1", "h1", [{ op: "delete", kind: "grant", id: w.ids.aliceRead }])).toEqual({ revision: 2, applied: false });
    await expect(again.mutate("d1", "other", [])).rejects.toThrow(/different body/);
    await again.close();
  });

  test("a state file without its end marker is refused: the proxy stays not ready", async () => {
    const file = tmpFile();
    const w = world("http://127.0.0.1:1");
    const core = new Core("production", file, 100, log);
    await core.replace("snap", "h0", { idempotencyKey: "snap", ...w.snapshot });
    await core.close();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    writeFileSync(file, lines.slice(0, -1).join("\n") + "\n");
    const broken = new Core("production", file, 100, log);
    await expect(broken.loadPersisted()).rejects.toThrow(/incomplete/);
    expect(broken.ready).toBe(false);
  });

  test("a state file from another environment is not served", async () => {
    const file = tmpFile();
    const core = new Core("staging", file, 100, log);
    await core.replace("snap", "h0", { idempotencyKey: "snap", ...world("http://127.0.0.1:1").snapshot });
    await core.close();
    await expect(new Core("production", file, 100, log).loadPersisted()).rejects.toThrow(/staging/);
  });
});

describe("snapshot pull", () => {
  test("a proxy with no state becomes ready from the dashboard's snapshot and persists it", async () => {
    const { upstream, w } = await worldBehindUpstream();
    let pulls = 0;
    const dashboard = http.createServer((req, res) => {
      if (req.method === "GET" && req.url === "/api/v1/proxy/snapshot?environment=production" && req.headers.authorization === "Bearer tgs_pull") {
        pulls++;
        // The first pull fails: the proxy retries and stays closed meanwhile.
        if (pulls === 1) return void res.writeHead(503).end();
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end(JSON.stringify({ revision: 99, environment: "production", ...w.snapshot, skipped: [] }));
      }
      res.writeHead(req.method === "POST" ? 200 : 404).end("{}");
    });
    await new Promise<void>((r) => dashboard.listen(0, "127.0.0.1", r));
    const file = tmpFile();
    const ports = { data: await freePort(), admin: await freePort() };
    const proxy = await spawnProxy({ DASHBOARD_URL: `http://127.0.0.1:${(dashboard.address() as AddressInfo).port}`, DASHBOARD_TOKEN: "tgs_pull", PROXY_STATE_FILE: file }, ports);
    try {
      const ready = await untilReady(proxy.adminUrl, 10_000);
      expect(ready.status).toBe(200);
      expect(pulls).toBeGreaterThanOrEqual(2);
      expect((await call(proxy.dataUrl, "GET", "/orders/orders", { "x-api-key": w.keys.alice })).status).toBe(200);
      expect(readFileSync(file, "utf8")).toContain(w.ids.aliceRead);
    } finally {
      await proxy.stop("SIGKILL");
      dashboard.close();
      upstream.close();
    }
  });
});

describe("streamed snapshot pull", () => {
  test("the dashboard's NDJSON is read line by line; a wrong environment, a bad line or a short stream is refused and retried", async () => {
    const { upstream, w } = await worldBehindUpstream();
    // The dashboard's own serializer (lib/enforcement/snapshot.ts), as GET /api/v1/proxy/snapshot streams it.
    const ndjson = (environment: string) => [...snapshotNdjson({ revision: 7, environment, ...w.snapshot, skipped: [] })].join("");
    const answers = [
      ndjson("staging"), // another environment's state: never served here
      ndjson("production").replace(`"kind":"grant"`, `"kind":"gr4nt"`), // a bad line
      ndjson("production").trimEnd().split("\n").slice(0, -1).join("\n") + "\n", // ends cleanly, one grant short
      ndjson("production"),
    ];
    const accepts: string[] = [];
    const dashboard = http.createServer((req, res) => {
      if (req.method === "GET" && req.url?.startsWith("/api/v1/proxy/snapshot")) {
        accepts.push(String(req.headers.accept));
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        return void res.end(answers[Math.min(accepts.length, answers.length) - 1]);
      }
      res.writeHead(req.method === "POST" ? 200 : 404).end("{}");
    });
    await new Promise<void>((r) => dashboard.listen(0, "127.0.0.1", r));
    const file = tmpFile();
    const proxy = await spawnProxy(
      { DASHBOARD_URL: `http://127.0.0.1:${(dashboard.address() as AddressInfo).port}`, DASHBOARD_TOKEN: "tgs_pull", PROXY_STATE_FILE: file },
      { data: await freePort(), admin: await freePort() },
    );
    try {
      const ready = await untilReady(proxy.adminUrl, 15_000, async () => {
        // Until the good answer, the data plane stays closed.
        if (accepts.length < 4) expect((await call(proxy.dataUrl, "GET", "/orders/orders", { "x-api-key": w.keys.alice })).status).toBe(503);
      });
      expect(ready.status).toBe(200);
      expect(accepts.length).toBeGreaterThanOrEqual(4);
      expect(accepts[0]).toContain("application/x-ndjson");
      expect(proxy.output()).toMatch(/environment staging, not production/);
      expect(proxy.output()).toMatch(/line \d+: kind/);
      expect(proxy.output()).toMatch(/held 2 grants where its header announced 3: incomplete/);
      expect((await call(proxy.dataUrl, "GET", "/orders/orders", { "x-api-key": w.keys.alice })).status).toBe(200);
      expect((await call(proxy.dataUrl, "GET", "/orders/orders", { "x-api-key": w.keys.bob })).status).toBe(403);
      const state = await admin(proxy.adminUrl, "GET", "/admin/v1/state");
      expect(state.body.counts).toMatchObject({ apis: 1, routes: w.snapshot.routes.length, credentials: 3, grants: 3 });
      expect(readFileSync(file, "utf8")).toContain(w.ids.aliceRead);
    } finally {
      await proxy.stop("SIGKILL");
      dashboard.close();
      upstream.close();
    }
  });
});

describe("streamed (NDJSON) snapshot", () => {
  test("is validated line by line: a bad line names itself and changes nothing; a good one replaces the state", async () => {
    const w = world("http://127.0.0.1:1");
    const ports = { data: await freePort(), admin: await freePort() };
    const proxy = await spawnProxy({ PROXY_STATE_FILE: tmpFile() }, ports);
    const put = async (lines: unknown[]) => {
      const res = await fetch(`${proxy.adminUrl}/admin/v1/snapshot`, {
        method: "PUT",
        headers: { authorization: "Bearer test-admin-token-0123456789", "content-type": "application/x-ndjson" },
        body: lines.map((l) => JSON.stringify(l)).join("\n") + "\n",
      });
      return { status: res.status, body: await res.json() };
    };
    const good = [
      { idempotencyKey: "nd-1" },
      ...w.snapshot.apis.map((value) => ({ kind: "api", value })),
      ...w.snapshot.routes.map((value) => ({ kind: "route", value })),
      ...w.snapshot.credentials.map((value) => ({ kind: "credential", value })),
      ...w.snapshot.grants.map((value) => ({ kind: "grant", value })),
    ];
    try {
      const bad = [...good];
      bad[7] = { kind: "credential", value: { ...w.snapshot.credentials[0], hash: "XYZ" } };
      const r1 = await put(bad);
      expect(r1.status).toBe(400);
      expect(r1.body.error.field).toBe("line 8: value.hash");
      const orphanRoute = [good[0], { kind: "route", value: { ...w.snapshot.routes[0], apiId: w.ids.alice } }];
      const r2 = await put(orphanRoute);
      expect(r2.status).toBe(400);
      expect(r2.body.error.field).toBe("line 2: value.apiId");
      expect((await admin(proxy.adminUrl, "GET", "/admin/v1/state")).body).toMatchObject({ revision: 0, ready: false });

      expect(await put(good)).toEqual({ status: 200, body: { revision: 1, applied: true } });
      expect(await put(good)).toEqual({ status: 200, body: { revision: 1, applied: false } });
      expect((await admin(proxy.adminUrl, "GET", "/admin/v1/state")).body).toMatchObject({ revision: 1, ready: true, counts: { apis: 1, routes: 5, credentials: 3, grants: 3 } });
    } finally {
      await proxy.stop("SIGKILL");
    }
  });
});
