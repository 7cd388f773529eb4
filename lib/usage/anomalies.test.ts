import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { until } from "@/test/support/until";
import { usageDashboard } from "@/test/support/usage-dashboard";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor } from "@/lib/auth/actor";
import { daysAgo, makeReviewer } from "@/lib/analysis/fixtures";
import { buildProxySnapshot } from "@/lib/enforcement/snapshot";
import { closeAdminPools } from "@/lib/enforcement/admin-client";
import { startDeliveryWorker, type DeliveryWorker } from "@/lib/enforcement/worker";
import { createWebhook, listWebhookDeliveries } from "@/lib/webhooks/admin";
import { verifySignature } from "@/lib/webhooks/signature";
import { ADMIN_TOKEN, admin as proxyAdmin, call, sha, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { revokeGrant } from "@/lib/review/decide";
import { SPIKE_FLOOR } from "./anomalies";

// Issue 22, points 1-3 end to end: the real proxy counts signals and reports them to a
// dashboard endpoint backed by the real ingest and database; the anomaly rules open findings
// as the reports arrive; the delivery worker sends the signed webhook, retried after 500s.

let tdb: TestDatabase;
let client: PrismaClient;
let proxy: ProxyProcess;
let worker: DeliveryWorker;
let upstream: http.Server;
let dashboard: http.Server;
let receiver: http.Server;
const actor = systemActor("test");
const ingestErrors: string[] = [];
const listen = (s: http.Server) => new Promise<string>((r) => s.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

const keys = { dormant: `tg_live_${randomUUID()}`, writer: `tg_live_${randomUUID()}`, spiker: `tg_live_${randomUUID()}`, quiet: `tg_live_${randomUUID()}`, roamer: `tg_live_${randomUUID()}` };
type Who = keyof typeof keys;
const grant: Record<string, string> = {};
const credential: Record<string, string> = {};
const bearer = (who: Who) => ({ authorization: `Bearer ${keys[who]}` });
let secret = "";
let slackSecret = "";
let teamUserId = "";
/** Every webhook attempt the receiver saw: delivery id, whether its signature verified, what it answered. */
const attempts: { delivery: string; event: string; verified: boolean; answered: number; body: string }[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 8);
  upstream = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  const upstreamUrl = await listen(upstream);
  dashboard = usageDashboard(actor, client, (e) => ingestErrors.push(String(e)));
  const dashboardUrl = await listen(dashboard);
  // The receiver answers 500 to the first two attempts of each delivery, then 200.
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const delivery = String(req.headers["tollgate-delivery"]);
      const verified = verifySignature(req.url === "/slack" ? slackSecret : secret, body, String(req.headers["tollgate-signature"] ?? ""));
      const answered = attempts.filter((a) => a.delivery === delivery).length < 2 ? 500 : 200;
      attempts.push({ delivery, event: String(req.headers["tollgate-event"]), verified, answered, body });
      res.writeHead(answered).end();
    });
  });
  const receiverUrl = await listen(receiver);

  const ports = { data: await freePort(), admin: await freePort() };
  proxy = await spawnProxy(
    { DASHBOARD_URL: dashboardUrl, DASHBOARD_TOKEN: "tgs_test", PROXY_USAGE_FLUSH_MS: "200", PROXY_SYNC_INTERVAL_MS: "3600000", PROXY_NAME: "edge-1", PROXY_TRUSTED_PROXIES: "127.0.0.1" },
    ports,
  );

  const env = await client.environment.create({ data: { name: "production", tier: "production" } });
  await client.proxy.create({ data: { name: "edge-1", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
  const team = await client.team.create({ data: { name: "orders-team" } });
  const teamPrincipal = await client.principal.create({ data: { kind: "user", displayName: "Olga Owner", teamId: team.id } });
  teamUserId = (await makeReviewer(client, ["reviewer"], teamPrincipal.id)).user.id;
  const api = await client.api.create({ data: { name: "orders", baseUrl: upstreamUrl, environmentId: env.id, teamId: team.id } });
  const scope = {
    read: await client.scope.create({ data: { apiId: api.id, name: "orders:read", level: "read" } }),
    write: await client.scope.create({ data: { apiId: api.id, name: "orders:write", level: "write" } }),
    admin: await client.scope.create({ data: { apiId: api.id, name: "orders:admin", level: "admin" } }),
  };
  const endpoint = async (method: string, pathTemplate: string, scopeId: string) => {
    const e = await client.endpoint.create({ data: { apiId: api.id, method, pathTemplate } });
    await client.endpointScope.create({ data: { endpointId: e.id, scopeId } });
    return e.id;
  };
  const getOrder = await endpoint("GET", "/orders/{id}", scope.read.id);
  await endpoint("POST", "/orders", scope.write.id);
  await endpoint("DELETE", "/orders/{id}", scope.admin.id);

  const holds: Record<Who, (keyof typeof scope)[]> = { dormant: ["admin"], writer: ["read", "write"], spiker: ["read"], quiet: ["read"], roamer: ["read"] };
  for (const who of Object.keys(keys) as Who[]) {
    const p = await client.principal.create({ data: { kind: "service_account", displayName: `${who} job` } });
    const dormant = who === "dormant";
    const c = await client.credential.create({ data: { principalId: p.id, prefix: keys[who].slice(0, 12), hash: sha(keys[who]), createdAt: daysAgo(400), lastUsedAt: dormant ? daysAgo(120) : daysAgo(1) } });
    credential[who] = c.id;
    for (const s of holds[who]) {
      const g = await client.grant.create({ data: { principalId: p.id, scopeId: scope[s].id, environmentId: env.id, grantedAt: daysAgo(400), lastUsedAt: dormant ? daysAgo(120) : daysAgo(1) } });
      grant[`${who}:${s}`] = g.id;
      // Backdated usage: the dormant key's last day of traffic was 120 days ago.
      await client.grantUsageDaily.create({ data: { grantId: g.id, day: dormant ? daysAgo(120) : daysAgo(1), requestCount: 40 } });
    }
  }
  // Histories older than the learning day: endpoints and networks seen, and a quiet minute baseline (5 requests per busy minute).
  for (const who of ["writer", "quiet", "spiker", "roamer"] as Who[]) {
    await client.credentialEndpointSeen.create({ data: { credentialId: credential[who], endpointId: getOrder, firstSeenAt: daysAgo(10), lastSeenAt: daysAgo(1) } });
  }
  await client.credentialNetworkSeen.createMany({
    data: (["quiet", "roamer"] as Who[]).map((who) => ({ credentialId: credential[who], network: "127.0.0.0/24", firstSeenAt: daysAgo(10), lastSeenAt: daysAgo(1) })),
  });
  for (const who of ["spiker", "quiet"] as Who[]) {
    await client.credentialMinuteUsage.createMany({
      data: Array.from({ length: 300 }, (_, i) => ({ credentialId: credential[who], minute: new Date(Math.floor((daysAgo(3).getTime() + i * 600_000) / 60_000) * 60_000), requestCount: 5 })),
    });
  }

  const snap = await buildProxySnapshot(actor, { environment: "production" }, client);
  expect((await proxyAdmin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "initial", ...snap })).status).toBe(200);
  await client.outboxItem.deleteMany();
  const admin = (await makeReviewer(client, ["admin"])).actor;
  secret = (await createWebhook(admin, { name: "soc", url: `${receiverUrl}/hook`, events: ["anomaly"], format: "tollgate" }, client)).secret;
  slackSecret = (await createWebhook(admin, { name: "chat", url: `${receiverUrl}/slack`, events: ["decision.enforced"], format: "slack" }, client)).secret;
  worker = await startDeliveryWorker({ client, pollMs: 200, verify: false, baseBackoffMs: 200 });
}, 240_000);

afterAll(async () => {
  await worker?.stop();
  await proxy?.stop();
  await closeAdminPools();
  for (const s of [upstream, dashboard, receiver]) s?.close();
  await client?.$disconnect();
  await tdb?.drop();
});

const findingsOf = (grantId: string) => client.finding.findMany({ where: { grantId }, select: { id: true, rule: true, severity: true, evidence: true, openedAt: true } });

describe("anomaly findings from the real proxy's usage signals", () => {
  it("a key dormant for 120 days that sends one request opens a critical reactivated finding within 60 s, notifies the owning team and is delivered to the webhook after two 500s", async () => {
    const sent = Date.now();
    expect((await call(proxy.dataUrl, "DELETE", "/orders/orders/42", bearer("dormant"))).status).toBe(200);
    const [f] = await until("a reactivated finding", () => findingsOf(grant["dormant:admin"]), (fs) => fs.length > 0, 60_000);
    const seconds = (Date.now() - sent) / 1000;
    console.log(`reactivated finding visible ${seconds.toFixed(2)} s after the request`);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(f.rule).toBe("reactivated");
    expect(f.severity).toBe("critical");
    expect(f.evidence).toMatchObject({ dormantDays: expect.any(Number), previousUseAt: expect.any(String), usedAgainAt: expect.any(String) });
    expect((f.evidence as { dormantDays: number }).dormantDays).toBeGreaterThanOrEqual(119);
    expect(await client.notification.findMany({ where: { userId: teamUserId, kind: "anomaly.critical" } })).toHaveLength(1);

    const delivered = await until(
      "the webhook delivery to succeed",
      async () => (await listWebhookDeliveries((await makeReviewer(client, ["admin"])).actor, {}, client)).find((d) => d.event === "anomaly"),
      (d) => d?.status === "delivered",
      60_000,
    );
    expect(delivered!.attempts).toBe(3);
    const seen = attempts.filter((a) => a.delivery === `anomaly:${f.id}`);
    expect(seen.map((a) => a.answered)).toEqual([500, 500, 200]);
    expect(seen.every((a) => a.verified && a.event === "anomaly")).toBe(true);
    expect(JSON.parse(seen[2].body)).toMatchObject({ type: "anomaly", data: { findingId: f.id, rule: "reactivated", severity: "critical" } });
    // A body changed in transit no longer verifies.
    expect(verifySignature(secret, seen[2].body.replace("critical", "low"), `t=${Math.floor(Date.now() / 1000)},v1=00`)).toBe(false);
  });

  it("a key that calls a write endpoint for the first time opens new_endpoint", async () => {
    expect((await call(proxy.dataUrl, "GET", "/orders/orders/1", bearer("writer"))).status).toBe(200); // known endpoint: nothing
    expect((await call(proxy.dataUrl, "POST", "/orders/orders", { ...bearer("writer"), "content-type": "application/json" }, "{}")).status).toBe(200);
    const fs = await until("a new_endpoint finding", () => findingsOf(grant["writer:write"]), (x) => x.length > 0, 60_000);
    expect(fs.map((x) => [x.rule, x.severity])).toEqual([["new_endpoint", "high"]]);
    expect(fs[0].evidence).toMatchObject({ endpoint: "POST /orders", scopeLevel: "write" });
    expect(await findingsOf(grant["writer:read"])).toEqual([]);
  });

  it("a spike opens one finding, not one per minute or per report; a quiet key opens none", async () => {
    // Stay inside one UTC minute, so the spike is one minute's count.
    if (new Date().getUTCSeconds() > 40) await new Promise((r) => setTimeout(r, (61 - new Date().getUTCSeconds()) * 1000));
    const n = SPIKE_FLOOR * 2 + 50;
    for (let i = 0; i < n; i += 10) {
      const batch = await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => call(proxy.dataUrl, "GET", "/orders/orders/7", bearer("spiker"))));
      expect(batch.every((r) => r.status === 200)).toBe(true);
    }
    for (let i = 0; i < 5; i++) expect((await call(proxy.dataUrl, "GET", "/orders/orders/8", bearer("quiet"))).status).toBe(200);
    await until("a volume_spike finding", () => findingsOf(grant["spiker:read"]), (x) => x.length > 0, 60_000);
    // Every request of the spike reported (several reports at 200 ms), and the quiet key's too.
    await until(
      "all spike requests ingested",
      () => client.credentialMinuteUsage.aggregate({ where: { credentialId: credential.spiker, minute: { gt: daysAgo(0.01) } }, _sum: { requestCount: true } }),
      (a) => a._sum.requestCount === n,
      60_000,
    );
    await until("the quiet key's report", () => client.credential.findUniqueOrThrow({ where: { id: credential.quiet } }), (c) => c.lastUsedAt! > daysAgo(0.01), 60_000);
    const after = await findingsOf(grant["spiker:read"]);
    expect(after.map((x) => x.rule)).toEqual(["volume_spike"]);
    expect(after[0].evidence).toMatchObject({ requests: expect.any(Number), baselineP95PerMinute: 5, threshold: SPIKE_FLOOR });
    expect(await findingsOf(grant["quiet:read"])).toEqual([]);
  });

  it("a production key seen from a network it never used opens new_network (X-Forwarded-For believed from the trusted proxy)", async () => {
    expect((await call(proxy.dataUrl, "GET", "/orders/orders/9", { ...bearer("roamer"), "x-forwarded-for": "198.51.100.7" })).status).toBe(200);
    const fs = await until("a new_network finding", () => findingsOf(grant["roamer:read"]), (x) => x.length > 0, 60_000);
    expect(fs.map((x) => x.rule)).toEqual(["new_network"]);
    expect(fs[0].evidence).toMatchObject({ network: "198.51.100.0/24", knownNetworks: expect.arrayContaining(["127.0.0.0/24"]) });
    expect(ingestErrors).toEqual([]);
  });

  it("revoking an anomaly's grant is enforced at the proxy and sent to a Slack-compatible webhook as decision.enforced", async () => {
    const [f] = await findingsOf(grant["roamer:read"]);
    const reviewer = await makeReviewer(client, ["reviewer"]);
    const r = await revokeGrant(reviewer.actor, { findingId: f.id, justification: "unknown network" }, client);
    await until("the revocation enforced", () => client.decision.findUniqueOrThrow({ where: { id: r.decisionId } }), (d) => d.enforcement === "applied", 60_000);
    expect((await call(proxy.dataUrl, "GET", "/orders/orders/9", bearer("roamer"))).status).toBe(403);
    const seen = await until("the decision.enforced webhook", async () => attempts.filter((a) => a.delivery === `decision.enforced:${r.decisionId}`), (x) => x.some((a) => a.answered === 200), 60_000);
    expect(seen.every((a) => a.verified && a.event === "decision.enforced")).toBe(true);
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({ text: expect.stringContaining(`Decision revoke ${r.decisionId} enforced`) });
  });
});
