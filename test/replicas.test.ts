import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Client } from "undici";
import { createDb, type PrismaClient } from "@/lib/db";
import { makeApi, makeEnvironment, makeReviewer, daysAgo } from "@/lib/analysis/fixtures";
import { authenticateServiceToken, createServiceToken } from "@/lib/auth/service-tokens";
import { closeAdminPools } from "@/lib/enforcement/admin-client";
import { buildProxySnapshot, snapshotDigest, snapshotNdjson } from "@/lib/enforcement/snapshot";
import { startDeliveryWorker, type DeliveryWorker } from "@/lib/enforcement/worker";
import { decisionStates, revokeGrant } from "@/lib/review";
import { deleteProxy, listProxies } from "@/lib/enforcement/proxies";
import { alertDegradedProxies } from "@/lib/enforcement/proxy-health";
import { updateSettings } from "@/lib/settings";
import { ADMIN_TOKEN, sha, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { startNginx, type Nginx } from "@/proxy/nginx-support";
import { nginxPlaneMissing, spawnNginxPlane, type NginxPlane } from "@/proxy-nginx/test-support";
import { createTestDatabase, freePort } from "./support/db";
import { startUpstream, type Upstream } from "./support/upstream";
import { until } from "./support/until";

// Two proxies for one environment behind real nginx as a load balancer: the
// Node proxy and the nginx data plane, both registered in the dashboard, both
// pulling their state from the dashboard's snapshot (lib/enforcement/snapshot.ts,
// served here by a plain HTTP server calling the same functions as the Next
// route) and both fed by the real delivery worker. A decision is enforced when
// both acknowledged it; a proxy that was down catches up before it serves.

const missing = nginxPlaneMissing();
if (missing) console.warn(`[replicas] skipped: ${missing}`);

const LONG = 300_000;
let tdb: Awaited<ReturnType<typeof createTestDatabase>>;
let client: PrismaClient;
let upstream: Upstream;
let dashboard: Server;
let nodeProxy: ProxyProcess;
let nginxPlane: NginxPlane;
let lb: Nginx;
let worker: DeliveryWorker;
let reviewer: Awaited<ReturnType<typeof makeReviewer>>;
let adminUser: Awaited<ReturnType<typeof makeReviewer>>;
const keys: string[] = [];
const findingIds: string[] = [];
let stateDir: string;

/** `n` requests through the balancer (a new connection each, so both proxies take some): their statuses. */
async function throughBalancer(key: string, n = 20): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = new Client(lb.url, { pipelining: 0 });
    const r = await c.request({ path: "/orders/items", method: "GET", headers: { authorization: `Bearer ${key}`, connection: "close" } });
    await r.body.dump();
    out.push(r.statusCode);
    await c.close();
  }
  return out;
}

const outboxOf = async (decisionId: string) =>
  Object.fromEntries((await client.outboxItem.findMany({ where: { decisionId, proxyId: { not: null } }, select: { status: true, proxy: { select: { name: true } } } })).map((o) => [o.proxy?.name, o.status]));

describe.skipIf(missing !== null)("two proxies behind a load balancer", () => {
  beforeAll(async () => {
    tdb = await createTestDatabase();
    client = createDb(tdb.url, 6);
    upstream = await startUpstream();
    const env = await makeEnvironment(client, "production", "prod");
    const { api, scopes } = await makeApi(client, env.id, ["read"], { name: "orders" });
    await client.api.update({ where: { id: api.id }, data: { baseUrl: upstream.url } });
    const endpoint = await client.endpoint.create({ data: { apiId: api.id, method: "GET", pathTemplate: "/items" } });
    await client.endpointScope.create({ data: { endpointId: endpoint.id, scopeId: scopes.read.id } });
    reviewer = await makeReviewer(client);
    for (let i = 0; i < 4; i++) {
      const p = await client.principal.create({ data: { kind: "service_account", displayName: `svc-${i}` } });
      const key = `tg_live_replica_${i}_${tdb.url.length}_${Math.random().toString(36).slice(2)}`;
      keys.push(key);
      await client.credential.create({ data: { principalId: p.id, prefix: key.slice(0, 12), hash: sha(key) } });
      const g = await client.grant.create({ data: { principalId: p.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(400), lastUsedAt: daysAgo(200) } });
      const f = await client.finding.create({ data: { grantId: g.id, rule: "dormant", severity: "medium", riskScore: 50, evidence: {}, suggestion: "Revoke" } });
      findingIds.push(f.id);
    }
    // The dashboard's snapshot route (app/api/v1/proxy/snapshot/route.ts), NDJSON form, over this test's database.
    adminUser = await makeReviewer(client, ["admin"]);
    const token = (await createServiceToken(adminUser.actor, { name: "replicas", scopes: ["proxy:sync"] }, client)).token;
    dashboard = createServer((req, res) => {
      void (async () => {
        try {
          const actor = await authenticateServiceToken(req.headers.authorization ?? null, client);
          const snapshot = await buildProxySnapshot(actor, { environment: new URL(req.url!, "http://d").searchParams.get("environment") }, client);
          res.writeHead(200, { "content-type": "application/x-ndjson" });
          Readable.from(snapshotNdjson(snapshot, undefined, undefined, await snapshotDigest(snapshot))).pipe(res);
        } catch (e) {
          res.writeHead(500).end(String(e));
        }
      })();
    });
    await new Promise<void>((r) => dashboard.listen(0, "127.0.0.1", r));
    const pull = { PROXY_ENVIRONMENT: "prod", DASHBOARD_URL: `http://127.0.0.1:${(dashboard.address() as AddressInfo).port}`, DASHBOARD_TOKEN: token, PROXY_START_PULL_WAIT_MS: "60000" };

    stateDir = mkdtempSync(path.join(os.tmpdir(), "tollgate-replicas-"));
    nodeProxy = await spawnProxy({ ...pull, PROXY_STATE_FILE: path.join(stateDir, "node.ndjson") }, { data: await freePort(), admin: await freePort() });
    const planeDir = mkdtempSync(path.join(os.tmpdir(), "tollgate-nginx-plane-"));
    nginxPlane = await spawnNginxPlane({ ...pull, PROXY_STATE_FILE: path.join(planeDir, "state.ndjson") }, { data: await freePort(), admin: await freePort() }, 2, planeDir);
    await client.proxy.create({ data: { name: "node", adminUrl: nodeProxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
    await client.proxy.create({ data: { name: "nginx", adminUrl: nginxPlane.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
    // Round robin over both; a proxy still catching up (503) or down is skipped, not shown to the client.
    lb = await startNginx(
      await freePort(),
      `location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_503;
    }`,
      `upstream replicas { server 127.0.0.1:${new URL(nodeProxy.dataUrl).port} max_fails=0; server 127.0.0.1:${new URL(nginxPlane.dataUrl).port} max_fails=0; keepalive 8; }`,
    );
    worker = await startDeliveryWorker({ client, pollMs: 200, baseBackoffMs: 100, maxBackoffMs: 500, verify: false });
    // Both pulled the dashboard's state at start.
    await until("both serving", () => throughBalancer(keys[0], 4), (s) => s.every((x) => x === 200), 120_000);
  }, LONG);

  afterAll(async () => {
    await worker?.stop();
    await lb?.stop();
    await nodeProxy?.stop("SIGKILL");
    await nginxPlane?.stop();
    await new Promise((r) => dashboard?.close(r));
    await upstream?.close();
    await closeAdminPools();
    await client?.$disconnect();
    await tdb?.drop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  test("revoke: acknowledged by both, then no request through the balancer succeeds with the key", { timeout: LONG }, async () => {
    const r = await revokeGrant(reviewer.actor, { findingId: findingIds[0] }, client);
    await until("enforced", () => client.decision.findUniqueOrThrow({ where: { id: r.decisionId } }), (d) => d.enforcement === "applied", 120_000);
    expect(await outboxOf(r.decisionId)).toEqual({ node: "applied", nginx: "applied" });
    expect(new Set(await throughBalancer(keys[0]))).toEqual(new Set([403]));
    expect(new Set(await throughBalancer(keys[1], 4))).toEqual(new Set([200]));
  });

  test("one proxy down while deciding: pending on it, applied on the other; restarted, it denies from its first request", { timeout: LONG }, async () => {
    await nginxPlane.stopController("SIGKILL");
    await nginxPlane.killNginx();
    const r = await revokeGrant(reviewer.actor, { findingId: findingIds[1] }, client);
    await until("applied on the node proxy", () => outboxOf(r.decisionId), (o) => o.node === "applied", 120_000);
    expect((await outboxOf(r.decisionId)).nginx).toBe("pending");
    expect((await client.decision.findUniqueOrThrow({ where: { id: r.decisionId } })).enforcement).toBe("pending");
    // The balancer sends everything to the proxy that is up: already denied.
    expect(new Set(await throughBalancer(keys[1], 6))).toEqual(new Set([403]));

    // Restart: its persisted state predates the revoke, so it must not serve that state before its pull.
    await nginxPlane.startNginx();
    const direct = new Client(nginxPlane.dataUrl, { pipelining: 0 });
    const ask = async () => {
      const res = await direct.request({ path: "/orders/items", method: "GET", headers: { authorization: `Bearer ${keys[1]}` } });
      await res.body.dump();
      return res.statusCode;
    };
    const startController = nginxPlane.startController();
    const seen: number[] = [];
    for (;;) {
      const s = await ask();
      seen.push(s);
      if (s !== 503) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    await startController;
    await direct.close();
    expect(seen.filter((s) => s !== 503), "its first answer after serving is a denial").toEqual([403]);
    await until("enforced everywhere", () => client.decision.findUniqueOrThrow({ where: { id: r.decisionId } }), (d) => d.enforcement === "applied", 120_000);
    expect(await outboxOf(r.decisionId)).toEqual({ node: "applied", nginx: "applied" });
    expect(new Set(await throughBalancer(keys[1]))).toEqual(new Set([403]));
    expect(new Set(await throughBalancer(keys[2], 6))).toEqual(new Set([200]));
  });

  // Last: it deregisters the nginx plane.
  test("the dashboard: pending overall naming the lagging proxy, degraded after the setting, alert, deregister", { timeout: LONG }, async () => {
    await nginxPlane.stopController("SIGKILL");
    await nginxPlane.killNginx();
    const r = await revokeGrant(reviewer.actor, { findingId: findingIds[3] }, client);
    await until("applied on the node proxy", () => outboxOf(r.decisionId), (o) => o.node === "applied", 120_000);
    await until("nginx delivery failed once", () => client.proxy.findUniqueOrThrow({ where: { name: "nginx" } }), (p) => p.lastError !== null, 60_000);
    const [state] = await decisionStates(reviewer.actor, [r.decisionId], client);
    expect(state).toMatchObject({ enforcement: "pending", waitingOn: "nginx" });

    // Per-proxy state and lag; "degraded" only once the outage is longer than the setting (3 min here).
    await updateSettings(adminUser.actor, { proxyDegradedMinutes: 3 }, client);
    const since = (await client.proxy.findUniqueOrThrow({ where: { name: "nginx" } })).lastSyncAt!;
    const byName = async (now: Date) => Object.fromEntries((await listProxies(adminUser.actor, client, now)).map((p) => [p.name, p]));
    let view = await byName(new Date(since.getTime() + 60_000));
    expect(view.node).toMatchObject({ health: "ok", pendingDeliveries: 0, lagSeconds: null });
    expect(view.nginx).toMatchObject({ health: "error", pendingDeliveries: 1 });
    expect(view.nginx.lagSeconds).toBeGreaterThan(0);
    const later = new Date(since.getTime() + 4 * 60_000);
    view = await byName(later);
    expect(view.nginx).toMatchObject({ health: "degraded", unreachableSince: since });
    expect(view.node.health).toBe("ok");

    // One alert per admin per outage: running the check again adds nothing.
    expect(await alertDegradedProxies(client, new Date(since.getTime() + 60_000))).toBe(0);
    const admins = await client.user.count({ where: { roles: { has: "admin" } } });
    expect(await alertDegradedProxies(client, later)).toBe(admins);
    expect(await alertDegradedProxies(client, later)).toBe(0);
    const alert = await client.notification.findFirstOrThrow({ where: { userId: adminUser.user.id, kind: "proxy.degraded" } });
    expect(alert.message).toContain("Proxy nginx (prod) has been unreachable since");
    expect(await client.notification.count({ where: { userId: reviewer.user.id } })).toBe(0);

    // Deregister: its pending rows are dropped, the decision stops waiting on it, and it is audited.
    const nginxId = view.nginx.id;
    await expect(deleteProxy(reviewer.actor, { id: nginxId }, client)).rejects.toMatchObject({ code: "forbidden" });
    expect(await deleteProxy(adminUser.actor, { id: nginxId }, client)).toEqual({ id: nginxId, droppedPendingDeliveries: 1, decisionsNowEnforced: 1 });
    expect(await outboxOf(r.decisionId)).toEqual({ node: "applied" });
    const [after] = await decisionStates(reviewer.actor, [r.decisionId], client);
    expect(after).toMatchObject({ enforcement: "applied", waitingOn: null });
    const audit = await client.auditEvent.findFirstOrThrow({ where: { action: "proxy.delete", target: `proxy:${nginxId}` } });
    expect(audit.data).toMatchObject({ name: "nginx", droppedPendingDeliveries: 1, decisionsNowEnforced: 1 });
    // Back up (no longer registered) so the shared teardown stops it as it stops a running plane.
    await nginxPlane.startNginx();
    await nginxPlane.startController();
  });
});
