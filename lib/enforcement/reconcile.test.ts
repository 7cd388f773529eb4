import { afterAll, beforeAll, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { ADMIN_TOKEN, admin, sha, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { makeApi, makeEnvironment, makeGrant, makePrincipal } from "@/lib/analysis/fixtures";
import { closeAdminPools } from "./admin-client";
import { reconcileProxies } from "./reconcile";

let tdb: TestDatabase;
let client: PrismaClient;
let proxy: ProxyProcess;
const grantIds: string[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  proxy = await spawnProxy({ PROXY_ENVIRONMENT: "prod" }, { data: await freePort(), admin: await freePort() });
  const env = await makeEnvironment(client, "production", "prod");
  const { api, scopes } = await makeApi(client, env.id, ["read", "write"]);
  await client.endpoint.create({ data: { apiId: api.id, method: "GET", pathTemplate: "/orders", scopes: { create: [{ scopeId: scopes.read.id }] } } });
  for (let i = 0; i < 5; i++) {
    const p = await makePrincipal(client, { kind: "api_key" });
    await client.credential.create({ data: { principalId: p.id, prefix: `tg_${i}`, hash: sha(`key-${i}`) } });
    grantIds.push((await makeGrant(client, { principalId: p.id, scopeId: scopes.read.id, environmentId: env.id })).id);
  }
  await client.proxy.create({ data: { name: "prod-edge", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
});

afterAll(async () => {
  await proxy?.stop();
  await closeAdminPools();
  await client?.$disconnect();
  await tdb?.drop();
});

test("a proxy that started empty gets the full snapshot, then is left alone while in sync", async () => {
  expect((await admin(proxy.adminUrl, "GET", "/admin/v1/state")).body.ready).toBe(false);
  const [first] = await reconcileProxies(client);
  expect(first.outcome).toBe("repaired");
  const state = (await admin(proxy.adminUrl, "GET", "/admin/v1/state")).body;
  expect(state.ready).toBe(true);
  expect(state.counts).toEqual({ apis: 1, routes: 1, credentials: 5, grants: 5 });
  const [second] = await reconcileProxies(client);
  expect(second).toMatchObject({ outcome: "in_sync", revision: state.revision });
  expect((await admin(proxy.adminUrl, "GET", "/admin/v1/state")).body.revision).toBe(state.revision);
  expect(await client.auditEvent.count({ where: { action: "proxy.reconcile" } })).toBe(1);
});

test("drift (a grant the database revoked is still on the proxy) is repaired", async () => {
  await client.grant.update({ where: { id: grantIds[0] }, data: { status: "revoked", revokedAt: new Date() } });
  const [r] = await reconcileProxies(client);
  expect(r.outcome).toBe("repaired");
  expect(r.detail).toMatch(/^drift/);
  expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${grantIds[0]}`)).status).toBe(404);
  expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${grantIds[1]}`)).status).toBe(200);
});

test("an unreachable proxy is recorded, not thrown", async () => {
  await client.proxy.create({ data: { name: "zz-down", adminUrl: `http://127.0.0.1:${await freePort()}`, adminToken: ADMIN_TOKEN, environmentId: (await client.environment.findFirstOrThrow()).id } });
  const results = await reconcileProxies(client);
  expect(results.find((r) => r.proxy === "zz-down")?.outcome).toBe("unreachable");
  expect((await client.proxy.findUniqueOrThrow({ where: { name: "zz-down" } })).lastError).toBeTruthy();
});

test("a revoke committed and delivered while repair reads its two sides is never pushed back", async () => {
  await reconcileProxies(client); // in sync first
  await client.grant.update({ where: { id: grantIds[3] }, data: { status: "active", revokedAt: null } });
  // A drift elsewhere, so the repair has something to push.
  await client.grant.update({ where: { id: grantIds[2] }, data: { status: "revoked", revokedAt: new Date() } });
  const [r] = await reconcileProxies(client, {
    betweenReads: async () => {
      // What the delivery worker does for a reviewer's revoke: commit, then deliver.
      await client.grant.update({ where: { id: grantIds[3] }, data: { status: "revoked", revokedAt: new Date() } });
      expect((await admin(proxy.adminUrl, "POST", "/admin/v1/batch", { idempotencyKey: "race-revoke", ops: [{ op: "delete", kind: "grant", id: grantIds[3] }] })).status).toBe(200);
    },
  });
  expect(["repaired", "busy"]).toContain(r.outcome);
  expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${grantIds[3]}`)).status).toBe(404);
  expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${grantIds[2]}`)).status).toBe(404);
});
