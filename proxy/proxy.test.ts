import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "@/test/support/db";
import { admin, call, spawnProxy, world, type ProxyProcess } from "./test-support";

// The real proxy as a child process, a real upstream and a real stand-in for
// the dashboard's usage endpoint.

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const seen: Seen[] = [];
let upstream: http.Server;
let upstreamUrl: string;

interface Report {
  reportId: string;
  grants: { grantId: string; day: string; count: number; lastUsedAt: string }[];
  credentials: { credentialId: string; lastUsedAt: string }[];
  shadow: { apiId: string | null; method: string; path: string; count: number; distinctKeys: number }[];
}
const accepted: Report[] = [];
let dashboardDown = true;
let dashboardAttempts = 0;
let dashboard: http.Server;
let dashboardUrl: string;

const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-proxy-test-"));
const stateFile = path.join(tmp, "state.ndjson");
let proxy: ProxyProcess;
let ports: { data: number; admin: number };
const w = () => fixture;
let fixture: ReturnType<typeof world>;

function listen(server: http.Server): Promise<string> {
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const delay = req.url?.includes("slow") ? 700 : 0;
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json", "x-upstream": "yes" });
        res.end(JSON.stringify({ ok: true, url: req.url, body }));
      }, delay);
    });
  });
  upstreamUrl = await listen(upstream);
  dashboard = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST") return void res.writeHead(503).end(); // no snapshot pulls in this test
      dashboardAttempts++;
      if (dashboardDown || req.headers.authorization !== "Bearer tgs_test") {
        res.writeHead(503).end();
        return;
      }
      const report = JSON.parse(Buffer.concat(chunks).toString()) as Report;
      if (!accepted.some((r) => r.reportId === report.reportId)) accepted.push(report);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  dashboardUrl = await listen(dashboard);
  fixture = world(upstreamUrl);
  ports = { data: await freePort(), admin: await freePort() };
  proxy = await spawnProxy(
    { PROXY_STATE_FILE: stateFile, DASHBOARD_URL: dashboardUrl, DASHBOARD_TOKEN: "tgs_test", PROXY_USAGE_FLUSH_MS: "200", PROXY_NAME: "test-proxy" },
    ports,
  );
});

afterAll(async () => {
  await proxy?.stop("SIGKILL");
  upstream?.close();
  dashboard?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function rawGet(port: number, target: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: target, method: "GET", headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on("error", reject);
    req.end();
  });
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("before the first state", () => {
  test("the data plane fails closed with 503 and forwards nothing", async () => {
    const r = await call(proxy.dataUrl, "GET", "/orders/orders", bearer(w().keys.alice));
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("not_ready");
    expect(seen).toHaveLength(0);
    const ready = await admin(proxy.adminUrl, "GET", "/admin/v1/ready");
    expect(ready).toEqual({ status: 503, body: { ready: false } });
  });

  test("mutations other than a snapshot are refused until then", async () => {
    const r = await admin(proxy.adminUrl, "DELETE", `/admin/v1/grants/${w().ids.aliceRead}`, { idempotencyKey: "early" });
    expect(r.status).toBe(503);
  });
});

describe("admin API", () => {
  test("an unauthenticated or wrongly authenticated call gets 401 and changes nothing", async () => {
    const body = { idempotencyKey: "snap-evil", ...w().snapshot };
    expect((await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", body, null)).status).toBe(401);
    expect((await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", body, "test-admin-token-0123456780")).status).toBe(401);
    expect((await admin(proxy.adminUrl, "GET", "/admin/v1/state", undefined, "short")).status).toBe(401);
    const st = await admin(proxy.adminUrl, "GET", "/admin/v1/state");
    expect(st.body).toMatchObject({ revision: 0, ready: false });
  });

  test("a snapshot push makes the proxy ready", async () => {
    const r = await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "snap-1", ...w().snapshot });
    expect(r).toEqual({ status: 200, body: { revision: 1, applied: true } });
    const st = await admin(proxy.adminUrl, "GET", "/admin/v1/state");
    expect(st.body).toMatchObject({ revision: 1, ready: true, environment: "production", counts: { apis: 1, routes: 5, credentials: 3, grants: 3 } });
    expect(st.body.lastSyncAt).toEqual(expect.any(String));
    expect((await admin(proxy.adminUrl, "GET", "/admin/v1/ready")).status).toBe(200);
    const g = await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${w().ids.aliceRead}`);
    expect(g.body.grant).toMatchObject({ id: w().ids.aliceRead, scopeId: w().ids.readScope });
  });

  test("malformed bodies get 400 naming the field, and the state is unchanged", async () => {
    const cases: [string, string, unknown, string | undefined][] = [
      ["POST", "/admin/v1/batch", "{not json", undefined],
      ["POST", "/admin/v1/batch", { ops: [{ op: "delete", kind: "grant", id: randomUUID() }] }, "idempotencyKey"],
      ["POST", "/admin/v1/batch", { idempotencyKey: "m1", ops: [] }, "ops"],
      ["POST", "/admin/v1/batch", { idempotencyKey: "m2", ops: [{ op: "upsert", kind: "credential", value: { id: randomUUID(), principalId: randomUUID(), hash: "nothex" } }] }, "ops.0.value.hash"],
      ["POST", "/admin/v1/batch", { idempotencyKey: "m3", ops: [{ op: "delete", kind: "grant", id: w().ids.aliceWrite }, { op: "upsert", kind: "route", value: { id: randomUUID(), apiId: randomUUID(), method: "GET", pathTemplate: "/x", scopeIds: [] } }] }, "ops.1.value.apiId"],
      ["POST", "/admin/v1/batch", { idempotencyKey: "m4", ops: [{ op: "explode", kind: "grant", id: w().ids.aliceWrite }] }, "ops.0.op"],
      ["PUT", `/admin/v1/grants/${w().ids.aliceWrite}`, { idempotencyKey: "m5", value: { id: randomUUID(), principalId: w().ids.alice, scopeId: w().ids.readScope } }, "value.id"],
      ["PUT", `/admin/v1/grants/${w().ids.aliceWrite}`, { idempotencyKey: "m6", value: { id: w().ids.aliceWrite, principalId: w().ids.alice, scopeId: "nope" } }, "value.scopeId"],
      ["PUT", "/admin/v1/snapshot", { idempotencyKey: "m7", ...w().snapshot, apis: [{ ...w().snapshot.apis[0], prefix: "/a/../b" }] }, "apis.0.prefix"],
      ["DELETE", `/admin/v1/grants/${w().ids.aliceWrite}`, {}, "idempotencyKey"],
    ];
    for (const [method, p, body, field] of cases) {
      const r = await admin(proxy.adminUrl, method, p, body);
      expect(r.status, `${method} ${p} ${JSON.stringify(body)}`).toBe(400);
      expect(r.body.error.code).toBe("invalid_body");
      if (field) expect(r.body.error.field).toBe(field);
    }
    const st = await admin(proxy.adminUrl, "GET", "/admin/v1/state");
    expect(st.body).toMatchObject({ revision: 1, counts: { grants: 3, routes: 5 } });
    // The first op of the rejected batch (delete aliceWrite) did not happen either.
    expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${w().ids.aliceWrite}`)).status).toBe(200);
  });
});

describe("data plane", () => {
  test("allows a key holding the scope and forwards the matched path with the principal, never the key", async () => {
    const r = await call(proxy.dataUrl, "GET", "/orders/orders/42?expand=items", { "x-api-key": w().keys.alice, "x-tollgate-principal": "forged", "x-http-method-override": "DELETE" });
    expect(r.status).toBe(200);
    expect(r.headers["x-upstream"]).toBe("yes");
    const last = seen.at(-1)!;
    expect(last.method).toBe("GET");
    expect(last.url).toBe("/orders/42?expand=items");
    expect(last.headers["x-tollgate-principal"]).toBe(w().ids.alice);
    expect(last.headers["x-api-key"]).toBeUndefined();
    expect(last.headers.authorization).toBeUndefined();
    expect(last.headers["x-http-method-override"]).toBeUndefined();
  });

  test("streams request bodies to the upstream", async () => {
    const big = "x".repeat(300_000);
    const r = await call(proxy.dataUrl, "POST", "/orders/orders", { ...bearer(w().keys.alice), "content-type": "text/plain" }, big);
    expect(r.status).toBe(200);
    expect(r.body.body.length).toBe(300_000);
  });

  test("a static segment beats a parameter", async () => {
    // /orders/export needs the write scope; bob holds only an expired read grant.
    expect((await call(proxy.dataUrl, "GET", "/orders/orders/export", bearer(w().keys.alice))).status).toBe(200);
    expect(seen.at(-1)!.url).toBe("/orders/export");
  });

  test("public routes need no key", async () => {
    const r = await call(proxy.dataUrl, "GET", "/orders/health");
    expect(r.status).toBe(200);
    expect(seen.at(-1)!.headers["x-tollgate-principal"]).toBeUndefined();
  });

  test("401 for a missing, unknown or expired key", async () => {
    const before = seen.length;
    const variants: Record<string, string>[] = [{}, bearer("tg_live_nobody"), { "x-api-key": "tg_live_nobody" }, bearer(w().keys.expired), { authorization: "Basic abc" }];
    for (const headers of variants) {
      const r = await call(proxy.dataUrl, "GET", "/orders/orders", headers);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe("unauthorized");
    }
    // Without a valid key nobody learns whether a route exists.
    expect((await call(proxy.dataUrl, "GET", "/nothing/here", bearer("tg_live_nobody"))).status).toBe(401);
    expect(seen.length).toBe(before);
  });

  test("403 without the scope and for an expired grant; the body names no scope", async () => {
    const r = await call(proxy.dataUrl, "POST", "/orders/orders", bearer(w().keys.bob), "{}");
    expect(r.status).toBe(403);
    expect(JSON.stringify(r.body)).not.toContain(w().ids.writeScope);
    expect(JSON.stringify(r.body)).not.toMatch(/scope/i);
    // Bob's read grant expired a minute ago.
    expect((await call(proxy.dataUrl, "GET", "/orders/orders", bearer(w().keys.bob))).status).toBe(403);
  });

  test("404 for an unknown route, recorded as a shadow endpoint", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await call(proxy.dataUrl, "DELETE", `/orders/orders/${1000 + i}/notes`, bearer(w().keys.alice));
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe("not_found");
    }
    expect((await call(proxy.dataUrl, "GET", "/billing/invoices", bearer(w().keys.bob))).status).toBe(404);
  });

  test("non-canonical paths are rejected before matching", async () => {
    const before = seen.length;
    // Raw request targets: a URL-parsing client would resolve these before sending.
    for (const p of ["/orders/orders/../orders", "/orders/%2e%2e/orders", "/orders/orders%2F42", "/orders//orders", "/orders/orders/42%00", "/orders/orders/..;/export", "/orders/orders\\42", "/orders/%2E/orders"]) {
      const status = await rawGet(ports.data, p, bearer(w().keys.alice));
      expect(status, p).toBe(400);
    }
    expect(seen.length).toBe(before);
    // Encoded unreserved characters are decoded, and the decoded path is what is forwarded.
    expect((await call(proxy.dataUrl, "GET", "/orders/%6Frders/42", bearer(w().keys.alice))).status).toBe(200);
    expect(seen.at(-1)!.url).toBe("/orders/42");
  });

  test("an unreachable upstream gives 502 JSON", async () => {
    const dead = randomUUID();
    const deadApi = { id: dead, name: "dead", prefix: "/dead", upstream: `http://127.0.0.1:${await freePort()}` };
    const route = { id: randomUUID(), apiId: dead, method: "GET", pathTemplate: "/x", scopeIds: [w().ids.readScope] };
    const r = await admin(proxy.adminUrl, "POST", "/admin/v1/batch", { idempotencyKey: "dead-api", ops: [{ op: "upsert", kind: "api", value: deadApi }, { op: "upsert", kind: "route", value: route }] });
    expect(r.status).toBe(200);
    const res = await call(proxy.dataUrl, "GET", "/dead/x", bearer(w().keys.alice));
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("bad_gateway");
  });
});

describe("revocation", () => {
  let revokeRevision = 0;
  test("a revoke via the admin API is enforced on the very next request", async () => {
    expect((await call(proxy.dataUrl, "GET", "/orders/orders", bearer(w().keys.alice))).status).toBe(200);
    const r = await admin(proxy.adminUrl, "DELETE", `/admin/v1/grants/${w().ids.aliceRead}`, { idempotencyKey: "decision-revoke-1" });
    expect(r.status).toBe(200);
    expect(r.body.applied).toBe(true);
    revokeRevision = r.body.revision;
    expect((await call(proxy.dataUrl, "GET", "/orders/orders", bearer(w().keys.alice))).status).toBe(403);
    expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${w().ids.aliceRead}`)).status).toBe(404);
  });

  test("replaying the mutation changes nothing; the same key with another body is a conflict", async () => {
    const again = await admin(proxy.adminUrl, "DELETE", `/admin/v1/grants/${w().ids.aliceRead}`, { idempotencyKey: "decision-revoke-1" });
    expect(again).toEqual({ status: 200, body: { revision: revokeRevision, applied: false } });
    const other = await admin(proxy.adminUrl, "DELETE", `/admin/v1/grants/${w().ids.aliceWrite}`, { idempotencyKey: "decision-revoke-1" });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_conflict");
    const st = await admin(proxy.adminUrl, "GET", "/admin/v1/state");
    expect(st.body.revision).toBe(revokeRevision);
    expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${w().ids.aliceWrite}`)).status).toBe(200);
  });

  test("a removed credential gets 401 on the next request", async () => {
    expect((await call(proxy.dataUrl, "POST", "/orders/orders", bearer(w().keys.bob), "{}")).status).toBe(403);
    const r = await admin(proxy.adminUrl, "POST", "/admin/v1/batch", { idempotencyKey: "revoke-bob-key", ops: [{ op: "delete", kind: "credential", id: w().ids.bobCred }] });
    expect(r.body.applied).toBe(true);
    expect((await call(proxy.dataUrl, "POST", "/orders/orders", bearer(w().keys.bob), "{}")).status).toBe(401);
  });

  test("an acknowledged revoke survives a crash and restart without any dashboard", async () => {
    const before = await admin(proxy.adminUrl, "GET", "/admin/v1/state");
    await proxy.stop("SIGKILL");
    proxy = await spawnProxy({ PROXY_STATE_FILE: stateFile, PROXY_NAME: "test-proxy" }, ports);
    const st = await admin(proxy.adminUrl, "GET", "/admin/v1/state");
    expect(st.body).toMatchObject({ ready: true, revision: before.body.revision, counts: before.body.counts });
    expect((await call(proxy.dataUrl, "GET", "/orders/orders", bearer(w().keys.alice))).status).toBe(403);
    expect((await call(proxy.dataUrl, "GET", "/orders/orders/7", bearer(w().keys.alice))).status).toBe(200);
    // The idempotency record survived too.
    const again = await admin(proxy.adminUrl, "DELETE", `/admin/v1/grants/${w().ids.aliceRead}`, { idempotencyKey: "decision-revoke-1" });
    expect(again.body).toEqual({ revision: revokeRevision, applied: false });
  });
});

describe("usage", () => {
  test("counts made during a dashboard outage are delivered once it is back", async () => {
    await proxy.stop("SIGTERM");
    accepted.length = 0;
    dashboardDown = true;
    proxy = await spawnProxy(
      { PROXY_STATE_FILE: stateFile, DASHBOARD_URL: dashboardUrl, DASHBOARD_TOKEN: "tgs_test", PROXY_USAGE_FLUSH_MS: "100", PROXY_NAME: "test-proxy", PROXY_SYNC_INTERVAL_MS: "3600000" },
      ports,
    );
    const N = 25;
    for (let i = 0; i < N; i++) expect((await call(proxy.dataUrl, "GET", `/orders/orders/${i}`, bearer(w().keys.alice))).status).toBe(200);
    for (let i = 0; i < 4; i++) await call(proxy.dataUrl, "GET", `/orders/orders/${i}/audit`, bearer(w().keys.alice));
    const attemptsBefore = dashboardAttempts;
    await new Promise((r) => setTimeout(r, 600));
    expect(dashboardAttempts).toBeGreaterThan(attemptsBefore); // it kept trying during the outage
    expect(accepted).toHaveLength(0);
    for (let i = 0; i < 5; i++) await call(proxy.dataUrl, "GET", `/orders/orders/${i}`, bearer(w().keys.alice));
    dashboardDown = false;
    const until = Date.now() + 5000;
    const total = () => accepted.flatMap((r) => r.grants).filter((g) => g.grantId === w().ids.aliceWrite).reduce((n, g) => n + g.count, 0);
    while (total() < N + 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    expect(total()).toBe(N + 5);
    const day = new Date().toISOString().slice(0, 10);
    expect(accepted.flatMap((r) => r.grants).every((g) => g.day === day)).toBe(true);
    expect(accepted.flatMap((r) => r.credentials).some((c) => c.credentialId === w().ids.aliceCred)).toBe(true);
    const shadow = accepted.flatMap((r) => r.shadow).filter((s) => s.path === "/orders/orders/{param}/audit");
    expect(shadow.reduce((n, s) => n + s.count, 0)).toBe(4);
    expect(shadow[0]).toMatchObject({ method: "GET", apiId: w().ids.api, distinctKeys: 1 });
  });

  test("metrics expose decisions, latency and the revision", async () => {
    const res = await fetch(`${proxy.adminUrl}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/tollgate_proxy_requests_total\{mode="proxy",decision="allow"\} \d+/);
    expect(text).toMatch(/tollgate_proxy_request_duration_seconds_bucket\{le="\+Inf"\} \d+/);
    expect(text).toMatch(/tollgate_proxy_state_revision \d+/);
  });
});

describe("shutdown", () => {
  test("SIGTERM drains an in-flight request before exiting", async () => {
    const pending = call(proxy.dataUrl, "GET", "/orders/orders/slow", bearer(w().keys.alice));
    await new Promise((r) => setTimeout(r, 200));
    const code = proxy.stop("SIGTERM");
    const r = await pending;
    expect(r.status).toBe(200);
    expect(await code).toBe(0);
  });
});
