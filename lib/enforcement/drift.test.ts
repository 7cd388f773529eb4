import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { until } from "@/test/support/until";
import { ADMIN_TOKEN, admin, call, sha, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { makeApi, makeEnvironment, makeGrant, makePrincipal } from "@/lib/analysis/fixtures";
import { systemActor } from "@/lib/auth/actor";
import { patchUser } from "@/lib/scim/users";
import { closeAdminPools } from "./admin-client";
import { digestSnapshot } from "./digest";
import { reconcileProxies } from "./reconcile";
import { apiPrefix, buildProxySnapshot } from "./snapshot";
import { startDeliveryWorker, type DeliveryWorker } from "./worker";

// Drift repair by content (docs/ARCHITECTURE.md, "State digests") and a
// principal's status reaching the real proxy through the outbox.

// Each test starts proxies or waits on deliveries: generous on a busy 2-core machine.
vi.setConfig({ testTimeout: 180_000 });

let tdb: TestDatabase;
let client: PrismaClient;
let proxy: ProxyProcess;
let upstream: http.Server;
let worker: DeliveryWorker | undefined;
let env: { id: string };
let readScope: string;
let prefix: string;
const grantIds: string[] = [];
const principalIds: string[] = [];
const keys: string[] = [];

const state = async () => (await admin(proxy.adminUrl, "GET", "/admin/v1/state")).body as { revision: number; ready: boolean; counts: Record<string, number> };
const batch = async (ops: unknown[]) => {
  const r = await admin(proxy.adminUrl, "POST", "/admin/v1/batch", { idempotencyKey: randomUUID(), ops });
  expect(r.status).toBe(200);
  return r.body;
};

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 6);
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  proxy = await spawnProxy({ PROXY_ENVIRONMENT: "prod" }, { data: await freePort(), admin: await freePort() });
  env = await makeEnvironment(client, "production", "prod");
  const { api, scopes } = await makeApi(client, env.id, ["read", "write"]);
  await client.api.update({ where: { id: api.id }, data: { baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` } });
  prefix = apiPrefix(api.name);
  readScope = scopes.read.id;
  await client.endpoint.create({ data: { apiId: api.id, method: "GET", pathTemplate: "/orders", scopes: { create: [{ scopeId: scopes.read.id }, { scopeId: scopes.write.id }] } } });
  for (let i = 0; i < 5; i++) {
    const p = await makePrincipal(client, { kind: "user" });
    principalIds.push(p.id);
    keys.push(`tg_live_${randomUUID()}`);
    await client.credential.create({ data: { principalId: p.id, prefix: `tg_${i}`, hash: sha(keys[i]) } });
    grantIds.push((await makeGrant(client, { principalId: p.id, scopeId: scopes.read.id, environmentId: env.id })).id);
  }
  await client.proxy.create({ data: { name: "prod-edge", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
  const [first] = await reconcileProxies(client);
  expect(first.outcome).toBe("repaired"); // started empty: the full state
});

afterAll(async () => {
  await worker?.stop();
  await proxy?.stop();
  await closeAdminPools();
  await client?.$disconnect();
  await tdb?.drop();
  upstream?.close();
});

test("the dashboard and the proxy compute the same digest of the same state, expired entries left out on both", async () => {
  const snapshot = await buildProxySnapshot(systemActor("test"), { environment: "prod" }, client);
  // An expired grant the proxy still holds (the database would not send it) does not count.
  await batch([{ op: "upsert", kind: "grant", value: { id: randomUUID(), principalId: principalIds[0], scopeId: randomUUID(), expiresAt: new Date(Date.now() - 1_000).toISOString() } }]);
  const asOf = Date.now();
  const proxySide = await admin(proxy.adminUrl, "GET", `/admin/v1/digest?asOf=${asOf}`);
  expect(proxySide.status).toBe(200);
  expect(proxySide.body.kinds).toEqual(digestSnapshot(snapshot, asOf));
  expect(proxySide.body.kinds.grant.count).toBe(5);
  // And one changed field makes them differ, in exactly one bucket.
  const changed = { ...snapshot, grants: snapshot.grants.map((g, i) => (i === 0 ? { ...g, scopeId: randomUUID() } : g)) };
  const other = digestSnapshot(changed, asOf);
  expect(other.grant.digest).not.toBe(proxySide.body.kinds.grant.digest);
  expect(other.grant.buckets.filter((b: string, i: number) => b !== proxySide.body.kinds.grant.buckets[i])).toHaveLength(1);
  expect((await reconcileProxies(client))[0].outcome).toBe("in_sync");
});

test("drift with equal counts is found and repaired with a diff, not the whole state", async () => {
  const before = await state();
  // Swap one grant for a forged one and move another to a different scope: counts stay equal.
  const forged = randomUUID();
  await batch([
    { op: "delete", kind: "grant", id: grantIds[1] },
    { op: "upsert", kind: "grant", value: { id: forged, principalId: principalIds[1], scopeId: readScope, expiresAt: null } },
    { op: "upsert", kind: "grant", value: { id: grantIds[2], principalId: principalIds[2], scopeId: randomUUID(), expiresAt: null } },
  ]);
  const drifted = await state();
  expect(drifted.counts).toEqual(before.counts);

  const [r] = await reconcileProxies(client);
  expect(r.outcome).toBe("repaired");
  expect(r.detail).toMatch(/^drift: grants differ/);
  expect(r.detail).toMatch(/pushed 3 changes/);
  expect(r.revision).toBe(drifted.revision + 1); // one batch
  expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${forged}`)).status).toBe(404);
  expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${grantIds[1]}`)).body.grant.scopeId).toBe(readScope);
  expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${grantIds[2]}`)).body.grant.scopeId).toBe(readScope);
  expect((await reconcileProxies(client))[0].outcome).toBe("in_sync");
});

test("a failed or pending outbox row does not stop repair", async () => {
  const p = await client.proxy.findFirstOrThrow({ where: { name: "prod-edge" } });
  const payload = { idempotencyKey: "stuck", ops: [{ op: "delete", kind: "grant", id: randomUUID() }] };
  await client.outboxItem.create({ data: { proxyId: p.id, idempotencyKey: "stuck-failed", operation: "POST /admin/v1/batch", payload, status: "failed", lastError: "400 invalid_body" } });
  await client.outboxItem.create({ data: { proxyId: p.id, idempotencyKey: "stuck-pending", operation: "POST /admin/v1/batch", payload, nextAttemptAt: new Date(Date.now() + 3_600_000) } });
  // The database revokes a grant; its delivery never happened.
  await client.grant.update({ where: { id: grantIds[3] }, data: { status: "revoked", revokedAt: new Date() } });
  const [r] = await reconcileProxies(client);
  expect(r.outcome).toBe("repaired");
  expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${grantIds[3]}`)).status).toBe(404);
});

test("ordinary expiry is not drift: no push, again and again", async () => {
  const write = await client.scope.findFirstOrThrow({ where: { level: "write" } });
  const expiring = await makeGrant(client, { principalId: principalIds[4], scopeId: write.id, environmentId: env.id, expiresAt: new Date(Date.now() + 1_500) });
  const [added] = await reconcileProxies(client);
  expect(added.outcome).toBe("repaired"); // the new grant goes out
  expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${expiring.id}`)).status).toBe(200);
  await until("the grant to expire", async () => Date.now(), (t) => t > expiring.expiresAt!.getTime() + 50);
  const audits = await client.auditEvent.count({ where: { action: "proxy.reconcile" } });
  for (let i = 0; i < 2; i++) expect((await reconcileProxies(client))[0].outcome).toBe("in_sync");
  expect(await client.auditEvent.count({ where: { action: "proxy.reconcile" } })).toBe(audits);
  // The proxy still lists it (it denies by itself); counts would have called this drift.
  expect((await state()).counts.grants).toBeGreaterThan((await buildProxySnapshot(systemActor("test"), { environment: "prod" }, client)).grants.length);
});

test("a repair computed against an older revision is refused (409), so a decision delivered meanwhile is never undone", async () => {
  const { revision } = await state();
  const stale = await admin(proxy.adminUrl, "POST", "/admin/v1/batch", {
    idempotencyKey: randomUUID(),
    ifRevision: revision - 1,
    ops: [{ op: "upsert", kind: "grant", value: { id: grantIds[3], principalId: principalIds[3], scopeId: readScope, expiresAt: null } }],
  });
  expect(stale.status).toBe(409);
  expect(stale.body.error.code).toBe("revision_conflict");
  expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${grantIds[3]}`)).status).toBe(404);
  expect((await state()).revision).toBe(revision);
});

test("SCIM deactivation makes the user's key fail at the real proxy through the outbox; reactivation restores it", async () => {
  worker = await startDeliveryWorker({ client, pollMs: 60_000 }); // the wake-up, not the poll, must carry it
  const who = 0;
  const path = `${prefix}/orders`;
  expect((await call(proxy.dataUrl, "GET", path, { "x-api-key": keys[who] })).status).toBe(200);
  const scim = systemActor("scim-test");
  const started = Date.now();
  await patchUser(scim, principalIds[who], { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Replace", value: { active: "False" } }] }, "https://t.example/scim/v2", client);
  await until("the key to fail", async () => (await call(proxy.dataUrl, "GET", path, { "x-api-key": keys[who] })).status, (s) => s === 401);
  const ms = Date.now() - started;
  console.log(`SCIM active:false -> 401 at the proxy after ${ms} ms`);
  // A removal is denied in memory before the proxy's fsync and acknowledgement, so the
  // 401 can come before the worker has recorded the acknowledgement: wait for that too.
  const statuses = async () => (await client.outboxItem.findMany({ where: { idempotencyKey: { startsWith: `principal:${principalIds[who]}:inactive` } } })).map((r) => r.status);
  expect(await until("the outbox row to be acknowledged", statuses, (s) => s.length === 1 && s[0] !== "pending")).toEqual(["applied"]);
  // Others are untouched, and the repair agrees with what the outbox did.
  expect((await call(proxy.dataUrl, "GET", path, { "x-api-key": keys[1] })).status).toBe(200);
  expect((await reconcileProxies(client))[0].outcome).toBe("in_sync");

  await patchUser(scim, principalIds[who], { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", path: "active", value: true }] }, "https://t.example/scim/v2", client);
  await until("the key to work again", async () => (await call(proxy.dataUrl, "GET", path, { "x-api-key": keys[who] })).status, (s) => s === 200);
  expect((await reconcileProxies(client))[0].outcome).toBe("in_sync");
});

test("an imported API's key location and own prefix are in the digest on both sides: drift in either is found and repaired", async () => {
  // An API as the Kong import writes it: its own proxyPrefix and a key location.
  const { api, scopes } = await makeApi(client, env.id, ["read"], { name: `kong-drift-${randomUUID().slice(0, 8)}` });
  const keyLocation = { names: ["apikey"], header: true, query: false };
  await client.api.update({ where: { id: api.id }, data: { baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, proxyPrefix: "/kong-orders", keyLocation } });
  await client.endpoint.create({ data: { apiId: api.id, method: "GET", pathTemplate: "/orders", scopes: { create: [{ scopeId: scopes.read.id }] } } });
  const p = await makePrincipal(client, { kind: "service_account" });
  const key = `kong_${randomUUID()}`;
  await client.credential.create({ data: { principalId: p.id, prefix: "kong_", hash: sha(key) } });
  await makeGrant(client, { principalId: p.id, scopeId: scopes.read.id, environmentId: env.id });
  expect((await reconcileProxies(client))[0].outcome).toBe("repaired"); // the new API, route, credential and grant go out
  expect((await reconcileProxies(client))[0].outcome).toBe("in_sync"); // both sides digest keyLocation alike

  const snapshot = await buildProxySnapshot(systemActor("test"), { environment: "prod" }, client);
  const wire = snapshot.apis.find((a) => a.id === api.id)!;
  expect(wire).toMatchObject({ prefix: "/kong-orders", keyLocation });
  const ok = async () => (await call(proxy.dataUrl, "GET", "/kong-orders/orders", { apikey: key })).status;
  expect(await ok()).toBe(200);

  // The proxy loses the key location (same id, name, prefix, upstream; counts unchanged): its
  // clients' keys are no longer read there. Only the digest can tell.
  const { keyLocation: _dropped, ...withoutLocation } = wire;
  await batch([{ op: "upsert", kind: "api", value: withoutLocation }]);
  expect(await ok()).toBe(401);
  let [r] = await reconcileProxies(client);
  expect(r.outcome).toBe("repaired");
  expect(r.detail).toMatch(/^drift: apis differ in 1 of 256 buckets/);
  expect(await ok()).toBe(200);

  // The proxy serves the API under another prefix.
  await batch([{ op: "upsert", kind: "api", value: { ...wire, prefix: "/elsewhere" } }]);
  expect(await ok()).toBe(401); // no API under /kong-orders: its key location is not read there
  [r] = await reconcileProxies(client);
  expect(r.outcome).toBe("repaired");
  expect(r.detail).toMatch(/^drift: apis differ in 1 of 256 buckets/);
  expect(await ok()).toBe(200);
  expect((await reconcileProxies(client))[0].outcome).toBe("in_sync");
});
