import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { until } from "@/test/support/until";
import { usageDashboard } from "@/test/support/usage-dashboard";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor } from "@/lib/auth/actor";
import { applyImport, listZombieEndpoints, stopRoutingZombie } from "@/lib/discovery";
import { buildProxySnapshot } from "@/lib/enforcement/snapshot";
import { closeAdminPools } from "@/lib/enforcement/admin-client";
import { startDeliveryWorker, type DeliveryWorker } from "@/lib/enforcement/worker";
import { ADMIN_TOKEN, admin as proxyAdmin, call, sha, spawnProxy, type ProxyProcess } from "@/proxy/test-support";

// Issue 17, point 3, end to end: an endpoint removed from the description but kept (its scope is
// held) is still routed by the real proxy; its traffic reaches the dashboard through the proxy's
// usage reports and opens a finding; an admin stops routing it, the outbox delivers the change, and
// the proxy then answers it exactly like a route it never knew.

let tdb: TestDatabase;
let client: PrismaClient;
let proxy: ProxyProcess;
let worker: DeliveryWorker;
let upstream: http.Server;
let dashboard: http.Server;
const actor = systemActor("test");
const key = `tg_live_${randomUUID()}`;
const auth = { authorization: `Bearer ${key}` };

const listen = (s: http.Server) => new Promise<string>((r) => s.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

const v1 = {
  openapi: "3.0.3",
  info: { title: "Orders", version: "1" },
  components: { securitySchemes: { oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://id.example/t", scopes: { "orders:read": "", "legacy:export": "" } } } } } },
  paths: {
    "/orders/{id}": { get: { security: [{ oauth: ["orders:read"] }], parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: { 200: { description: "ok" } } } },
    "/legacy/export": { get: { security: [{ oauth: ["legacy:export"] }], responses: { 200: { description: "ok" } } } },
  },
};
const v2 = { ...v1, info: { title: "Orders", version: "2" }, paths: { "/orders/{id}": v1.paths["/orders/{id}"] } };

let apiId: string;
let legacyId: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 6);
  upstream = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"upstream":true}'));
  const upstreamUrl = await listen(upstream);
  dashboard = usageDashboard(actor, client);
  const dashboardUrl = await listen(dashboard);
  const ports = { data: await freePort(), admin: await freePort() };
  proxy = await spawnProxy({ DASHBOARD_URL: dashboardUrl, DASHBOARD_TOKEN: "tgs_test", PROXY_USAGE_FLUSH_MS: "200", PROXY_SYNC_INTERVAL_MS: "3600000", PROXY_NAME: "edge-1" }, ports);

  const env = await client.environment.create({ data: { name: "production", tier: "production" } });
  await client.proxy.create({ data: { name: "edge-1", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
  const r = await applyImport(actor, { apiName: "Orders", environment: "production", document: toYaml(v1), baseUrl: upstreamUrl }, { client });
  apiId = r.api.id!;
  legacyId = (await client.endpoint.findFirstOrThrow({ where: { apiId, pathTemplate: "/legacy/export" } })).id;
  const alice = await client.principal.create({ data: { kind: "service_account", displayName: "reporting job" } });
  await client.credential.create({ data: { principalId: alice.id, prefix: key.slice(0, 12), hash: sha(key) } });
  for (const s of await client.scope.findMany({ where: { apiId } })) await client.grant.create({ data: { principalId: alice.id, scopeId: s.id, environmentId: env.id } });
  // The proxy starts from the dashboard's state; the outbox rows of the first import are then stale.
  await client.outboxItem.deleteMany();
  const snap = await buildProxySnapshot(actor, { environment: "production" }, client);
  expect((await proxyAdmin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "initial", ...snap })).status).toBe(200);
  worker = await startDeliveryWorker({ client, pollMs: 200, verify: false });
});

afterAll(async () => {
  await worker?.stop();
  await proxy?.stop();
  await closeAdminPools();
  upstream?.close();
  dashboard?.close();
  await client?.$disconnect();
  await tdb?.drop();
});

describe("zombie endpoints", () => {
  it("a removed endpoint whose scope is held stays routed, shows as a zombie, and its traffic opens a finding", async () => {
    const r = await applyImport(actor, { apiName: "Orders", environment: "production", document: toYaml(v2) }, { client });
    expect(r.diff.endpoints.removed).toEqual([expect.objectContaining({ pathTemplate: "/legacy/export", action: "deprecate" })]);
    expect((await call(proxy.dataUrl, "GET", "/orders/legacy/export", auth)).status).toBe(200); // still routed

    // Held but no traffic yet: a zombie in the view, without a finding.
    const before = await listZombieEndpoints(actor, {}, client);
    expect(before.map((z) => [z.method, z.pathTemplate, z.activeGrants])).toEqual([["GET", "/legacy/export", 1]]);

    for (let i = 0; i < 3; i++) expect((await call(proxy.dataUrl, "GET", "/orders/legacy/export", auth)).status).toBe(200);
    const finding = await until(
      "a zombie_traffic finding",
      () => client.endpointFinding.findFirst({ where: { endpointId: legacyId, rule: "zombie_traffic", status: "open" } }),
      (f) => f !== null,
    );
    expect(finding!.severity).toBe("high");
    const [zombie] = await until("all four requests counted", () => listZombieEndpoints(actor, {}, client), (z) => z[0]?.requestsInWindow === 4);
    expect(zombie.lastSeenAt).not.toBeNull();
    expect(zombie.openFindingId).toBe(finding!.id);
  });

  it("stopping routing goes through the outbox: the proxy then answers it like an unknown route", async () => {
    const unknown = await call(proxy.dataUrl, "GET", "/orders/legacy/never-existed", auth);
    expect(unknown.status).toBe(404);

    await expect(stopRoutingZombie(actor, { endpointId: legacyId, reason: "" }, client)).rejects.toMatchObject({ status: 400 });
    const live = await client.endpoint.findFirstOrThrow({ where: { apiId, pathTemplate: "/orders/{id}" } });
    await expect(stopRoutingZombie(actor, { endpointId: live.id, reason: "not a zombie" }, client)).rejects.toMatchObject({ status: 409 });

    const r = await stopRoutingZombie(actor, { endpointId: legacyId, reason: "retired in 2025, callers migrated" }, client);
    expect(r).toMatchObject({ outboxRows: 1, findingsResolved: 1 });
    const after = await until("the route gone from the proxy", () => call(proxy.dataUrl, "GET", "/orders/legacy/export", auth), (res) => res.status !== 200);
    expect(after.status).toBe(unknown.status);
    expect(after.body).toEqual(unknown.body);
    expect((await call(proxy.dataUrl, "GET", "/orders/orders/o-1", auth)).status).toBe(200); // the live endpoint is untouched

    // A full snapshot leaves it out too, so a resync or a new proxy does not bring it back.
    const snap = await buildProxySnapshot(actor, { environment: "production" }, client);
    expect(snap.routes.map((x) => x.id)).not.toContain(legacyId);
    expect(await client.auditEvent.count({ where: { action: "discovery.zombie_stop_routing", target: `endpoint:${legacyId}` } })).toBe(1);
    expect((await client.endpointFinding.findFirstOrThrow({ where: { endpointId: legacyId } })).status).toBe("resolved");
    await expect(stopRoutingZombie(actor, { endpointId: legacyId, reason: "again" }, client)).rejects.toMatchObject({ status: 409 });
    // Requests to it now show as shadow traffic, not as traffic of the endpoint.
  });

  it("an endpoint back in the description is routed again", async () => {
    await applyImport(actor, { apiName: "Orders", environment: "production", document: toYaml({ ...v1, info: { title: "Orders", version: "3" } }) }, { client });
    expect((await client.endpoint.findUniqueOrThrow({ where: { id: legacyId } })).routingStoppedAt).toBeNull();
    await until("the route back on the proxy", () => call(proxy.dataUrl, "GET", "/orders/legacy/export", auth), (res) => res.status === 200);
    expect(await listZombieEndpoints(actor, {}, client)).toEqual([]);
  });
});
