import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "@/test/support/db";
import { startUpstream, type Upstream } from "@/test/support/upstream";
import { admin, call, world } from "@/proxy/test-support";
import type { UsageReport } from "@/proxy/usage";
import { nginxPlaneMissing, spawnNginxPlane, type NginxPlane } from "./test-support";

// Usage counted by the Lua module reaches the dashboard's ingest route in the
// Node proxy's report shape: per grant and day, per credential, shadow endpoints.
// A real HTTP endpoint stands in for the dashboard (it refuses snapshot pulls,
// so the state comes from a push).

const missing = nginxPlaneMissing();
if (missing) console.warn(`[nginx plane] usage test skipped: ${missing}`);

let dashboard: Server;
let upstream: Upstream;
let plane: NginxPlane;
const reports: UsageReport[] = [];

describe.skipIf(missing !== null)("nginx data plane usage", () => {
  beforeAll(async () => {
    dashboard = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        if (req.url === "/api/v1/usage" && req.method === "POST") {
          reports.push(JSON.parse(body) as UsageReport);
          return void res.writeHead(202).end();
        }
        res.writeHead(503).end();
      });
    });
    await new Promise<void>((r) => dashboard.listen(0, "127.0.0.1", r));
    upstream = await startUpstream();
    plane = await spawnNginxPlane(
      { DASHBOARD_URL: `http://127.0.0.1:${(dashboard.address() as AddressInfo).port}`, DASHBOARD_TOKEN: "tgs_test", PROXY_USAGE_FLUSH_MS: "300", PROXY_SYNC_INTERVAL_MS: "600000" },
      { data: await freePort(), admin: await freePort() },
      2,
    );
  });
  afterAll(async () => {
    await plane?.stop();
    await upstream?.close();
    await new Promise((r) => dashboard?.close(r));
  });

  test("allowed requests and shadow endpoints are reported per grant, credential and path", async () => {
    const w = world(upstream.url);
    expect((await admin(plane.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "w", ...w.snapshot })).status).toBe(200);
    const auth = { authorization: `Bearer ${w.keys.alice}` };
    for (let i = 0; i < 3; i++) expect((await call(plane.dataUrl, "GET", "/orders/orders", auth)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await call(plane.dataUrl, "DELETE", `/orders/orders/${100 + i}/notes`, auth)).status).toBe(404);
    // A route needing read AND write: one request uses (and reports) both grants once.
    const both = { id: randomUUID(), apiId: w.ids.api, method: "GET", pathTemplate: "/both", requirements: [[w.ids.readScope, w.ids.writeScope]], public: false };
    expect((await admin(plane.adminUrl, "POST", "/admin/v1/batch", { idempotencyKey: "both", ops: [{ op: "upsert", kind: "route", value: both }] })).status).toBe(200);
    expect((await call(plane.dataUrl, "GET", "/orders/both", auth)).status).toBe(200);
    const until = Date.now() + 15_000;
    const sum = (id = w.ids.aliceRead) => reports.flatMap((r) => r.grants).filter((g) => g.grantId === id).reduce((n, g) => n + g.count, 0);
    while ((sum() < 4 || sum(w.ids.aliceWrite) < 1 || reports.flatMap((r) => r.shadow).reduce((n, o) => n + o.count, 0) < 2) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(sum()).toBe(4);
    expect(sum(w.ids.aliceWrite)).toBe(1);
    expect(reports.flatMap((r) => r.credentials).map((c) => c.credentialId)).toContain(w.ids.aliceCred);
    const shadow = reports.flatMap((r) => r.shadow);
    // Two workers flush on their own timers: the two observations may arrive in one report or two.
    for (const o of shadow) expect(o).toMatchObject({ apiId: w.ids.api, method: "DELETE", path: "/orders/orders/{param}/notes", distinctKeys: 1 });
    expect(shadow.reduce((n, o) => n + o.count, 0)).toBe(2);
    expect(reports.every((r) => r.proxy === "proxy" && r.environment === "production")).toBe(true);
  });
});
