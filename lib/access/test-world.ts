// Shared setup for lib/access integration tests (not a test file): a real
// Postgres database of its own, the real proxy as a child process in front of a
// tiny upstream, one production API whose GET /orders needs orders:read or
// orders:write, a team with a manager, an owner and their service account.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
export { until } from "@/test/support/until";
import { ADMIN_TOKEN, call, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { makeApi, makeEnvironment, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { closeAdminPools } from "@/lib/enforcement/admin-client";
import { reconcileProxies } from "@/lib/enforcement/reconcile";
import { apiPrefix } from "@/lib/enforcement/snapshot";
import { startDeliveryWorker, type DeliveryWorker } from "@/lib/enforcement/worker";

export async function accessWorld() {
  const tdb: TestDatabase = await createTestDatabase();
  const client: PrismaClient = createDb(tdb.url, 8);
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  let proxy: ProxyProcess = await spawnProxy({ PROXY_ENVIRONMENT: "prod" }, { data: await freePort(), admin: await freePort() });
  const env = await makeEnvironment(client, "production", "prod");
  const team = await client.team.create({ data: { name: `orders-team-${Date.now()}` } });
  const { api, scopes } = await makeApi(client, env.id, ["read", "write", "admin"], { teamId: team.id });
  await client.api.update({ where: { id: api.id }, data: { baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` } });
  await client.endpoint.create({ data: { apiId: api.id, method: "GET", pathTemplate: "/orders", scopes: { create: [{ scopeId: scopes.read.id }, { scopeId: scopes.write.id }] } } });
  await client.endpoint.create({ data: { apiId: api.id, method: "DELETE", pathTemplate: "/orders", scopes: { create: [{ scopeId: scopes.admin.id }] } } });
  const ownerP = await makePrincipal(client, { kind: "user", teamId: team.id, name: "owner" });
  const owner = await makeReviewer(client, ["auditor"], ownerP.id);
  const managerP = await makePrincipal(client, { kind: "user", teamId: team.id, name: "manager" });
  const manager = await makeReviewer(client, ["manager"], managerP.id);
  const reviewerP = await makePrincipal(client, { kind: "user", teamId: team.id, name: "team reviewer" });
  const reviewer = await makeReviewer(client, ["reviewer"], reviewerP.id);
  const reviewer2P = await makePrincipal(client, { kind: "user", teamId: team.id, name: "team reviewer 2" });
  const reviewer2 = await makeReviewer(client, ["reviewer"], reviewer2P.id);
  const outsiderP = await makePrincipal(client, { kind: "user", name: "outsider" });
  const outsider = await makeReviewer(client, ["reviewer"], outsiderP.id);
  const admin = await makeReviewer(client, ["admin"]);
  const sa = await client.principal.create({
    data: { kind: "service_account", displayName: "orders-bot", teamId: team.id, managerId: ownerP.id, homeEnvironmentId: env.id },
  });
  const proxyRow = await client.proxy.create({ data: { name: "prod-edge", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
  const [first] = await reconcileProxies(client);
  if (first.outcome !== "repaired") throw new Error(`initial sync: ${first.outcome}`);
  const worker: DeliveryWorker = await startDeliveryWorker({ client, pollMs: 500, baseBackoffMs: 100, maxBackoffMs: 1000, listenUrl: tdb.url });
  const path = `${apiPrefix(api.name)}/orders`;
  return {
    tdb,
    client,
    env,
    team,
    api,
    scopes,
    sa,
    owner,
    manager,
    reviewer,
    reviewer2,
    outsider,
    admin,
    proxyRow,
    get proxy() {
      return proxy;
    },
    async restartProxy() {
      proxy = await spawnProxy({ PROXY_ENVIRONMENT: "prod" }, { data: Number(new URL(proxy.dataUrl).port), admin: Number(new URL(proxy.adminUrl).port) });
    },
    /** GET /orders through the real proxy with this key. */
    get: (key: string, method = "GET") => call(proxy.dataUrl, method, path, { authorization: `Bearer ${key}` }).then((r) => r.status),
    worker,
    async close() {
      await worker.stop();
      await proxy.stop();
      await closeAdminPools();
      await client.$disconnect();
      await tdb.drop();
      upstream.close();
    },
  };
}
export type AccessWorld = Awaited<ReturnType<typeof accessWorld>>;
