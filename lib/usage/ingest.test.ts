import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { authenticateServiceToken, createServiceToken, revokeServiceToken } from "@/lib/auth/service-tokens";
import { createDb, type PrismaClient } from "@/lib/db";
import { buildProxySnapshot } from "@/lib/enforcement/snapshot";
import { ingestUsageReport } from "@/lib/usage/ingest";
import { snapshotBody } from "@/proxy/schemas";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";

// Usage must postdate its grant (less a slack) and not lie in the future: dates are relative to today.
const DAY_MS = 86_400_000;
const dayAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString().slice(0, 10);
const D1 = dayAgo(4);
const D2 = dayAgo(3);
const longAgo = new Date(Date.now() - 30 * DAY_MS);

let tdb: TestDatabase;
let client: PrismaClient;
const ids = { env: "", api: "", scope: "", principal: "", gone: "", cred: "", grant: "", grant2: "", endpoint: "" };

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 2);
  const env = await client.environment.create({ data: { name: "production", tier: "production" } });
  const api = await client.api.create({ data: { name: "Orders API", baseUrl: "http://orders.internal:9000/", environmentId: env.id } });
  await client.api.create({ data: { name: "legacy", baseUrl: "ftp://nope", environmentId: env.id } });
  const scope = await client.scope.create({ data: { apiId: api.id, name: "orders:read", level: "read" } });
  const endpoint = await client.endpoint.create({ data: { apiId: api.id, method: "get", pathTemplate: "/orders/{id}", scopes: { create: { scopeId: scope.id } } } });
  const principal = await client.principal.create({ data: { kind: "service_account", displayName: "billing-job" } });
  const gone = await client.principal.create({ data: { kind: "service_account", displayName: "old-job", status: "deprovisioned" } });
  const cred = await client.credential.create({ data: { principalId: principal.id, prefix: "tg_live_abc", hash: createHash("sha256").update("k1").digest("hex"), createdAt: longAgo } });
  await client.credential.create({ data: { principalId: principal.id, prefix: "tg_live_rev", hash: createHash("sha256").update("k2").digest("hex"), revokedAt: new Date() } });
  const grant = await client.grant.create({ data: { principalId: principal.id, scopeId: scope.id, environmentId: env.id, grantedAt: longAgo } });
  const grant2 = await client.grant.create({ data: { principalId: gone.id, scopeId: scope.id, environmentId: env.id } });
  await client.proxy.create({ data: { name: "edge-1", adminUrl: "http://127.0.0.1:1", adminToken: "x".repeat(20), environmentId: env.id } });
  Object.assign(ids, { env: env.id, api: api.id, scope: scope.id, principal: principal.id, gone: gone.id, cred: cred.id, grant: grant.id, grant2: grant2.id, endpoint: endpoint.id });
});

afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

test("service tokens: plaintext once, hash stored, scopes checked, revocation refuses", async () => {
  const created = await createServiceToken(systemActor("test"), { name: "edge proxy", scopes: ["usage:ingest", "proxy:sync"] }, client);
  expect(created.token).toMatch(/^tgs_[A-Za-z0-9_-]{40,}$/);
  const row = await client.serviceToken.findUniqueOrThrow({ where: { id: created.id } });
  expect(row.hash).toBe(createHash("sha256").update(created.token).digest("hex"));
  expect(JSON.stringify(row)).not.toContain(created.token);
  expect(row.lastUsedAt).toBeNull();

  const actor = await authenticateServiceToken(`Bearer ${created.token}`, client);
  expect(actor).toMatchObject({ kind: "service", tokenId: created.id, scopes: ["usage:ingest", "proxy:sync"] });
  expect((await client.serviceToken.findUniqueOrThrow({ where: { id: created.id } })).lastUsedAt).not.toBeNull();

  await expect(authenticateServiceToken(null, client)).rejects.toMatchObject({ code: "unauthenticated" });
  await expect(authenticateServiceToken("Bearer tgs_" + "a".repeat(43), client)).rejects.toMatchObject({ code: "unauthenticated" });
  const audited = await client.auditEvent.count({ where: { action: "service_token.create" } });
  expect(audited).toBe(1);

  await revokeServiceToken(systemActor("test"), created.id, client);
  await expect(authenticateServiceToken(`Bearer ${created.token}`, client)).rejects.toMatchObject({ code: "unauthenticated" });
});

test("a token without usage:ingest cannot report usage", async () => {
  const t = await createServiceToken(systemActor("test"), { name: "importer", scopes: ["imports:write"] }, client);
  const actor = await authenticateServiceToken(`Bearer ${t.token}`, client);
  await expect(ingestUsageReport(actor, { reportId: "x", proxy: "edge-1", environment: "production", grants: [], credentials: [], shadow: [] }, client)).rejects.toMatchObject({ code: "forbidden" });
  await expect(buildProxySnapshot(actor, { environment: "production" }, client)).rejects.toMatchObject({ code: "forbidden" });
});

test("usage reports are upserted set-based, once per report id", async () => {
  const t = await createServiceToken(systemActor("test"), { name: "edge", scopes: ["usage:ingest"] }, client);
  const actor = await authenticateServiceToken(`Bearer ${t.token}`, client);
  const report = {
    reportId: randomUUID(),
    proxy: "edge-1",
    environment: "production",
    grants: [
      { grantId: ids.grant, day: D1, count: 5, lastUsedAt: `${D1}T10:00:00.000Z` },
      { grantId: ids.grant, day: D1, count: 2, lastUsedAt: `${D1}T11:00:00.000Z` },
      { grantId: ids.grant, day: D2, count: 1, lastUsedAt: `${D2}T09:00:00.000Z` },
      { grantId: randomUUID(), day: D2, count: 9, lastUsedAt: `${D2}T09:00:00.000Z` },
    ],
    credentials: [{ credentialId: ids.cred, lastUsedAt: `${D2}T09:00:00.000Z` }],
    shadow: [{ apiId: ids.api, method: "DELETE", path: "/orders-api/orders/{param}", count: 3, distinctKeys: 1, firstSeenAt: `${D2}T08:00:00.000Z`, lastSeenAt: `${D2}T08:30:00.000Z` }],
  };
  const first = await ingestUsageReport(actor, report, client);
  expect(first).toMatchObject({ accepted: true, grantDays: 2, credentials: 1, shadow: 1, proxyKnown: true });
  const again = await ingestUsageReport(actor, report, client);
  expect(again.accepted).toBe(false);

  const days = await client.grantUsageDaily.findMany({ where: { grantId: ids.grant }, orderBy: { day: "asc" } });
  expect(days.map((d) => [d.day.toISOString().slice(0, 10), d.requestCount])).toEqual([[D1, 7n], [D2, 1n]]);
  expect((await client.grant.findUniqueOrThrow({ where: { id: ids.grant } })).lastUsedAt?.toISOString()).toBe(`${D2}T09:00:00.000Z`);
  expect((await client.credential.findUniqueOrThrow({ where: { id: ids.cred } })).lastUsedAt?.toISOString()).toBe(`${D2}T09:00:00.000Z`);
  expect((await client.proxy.findUniqueOrThrow({ where: { name: "edge-1" } })).lastReportAt).not.toBeNull();

  // A second report adds to the same day, keeps the later last-used time, and merges the shadow endpoint.
  await ingestUsageReport(actor, {
    ...report,
    reportId: randomUUID(),
    proxy: "unregistered",
    grants: [{ grantId: ids.grant, day: D2, count: 4, lastUsedAt: `${D2}T08:00:00.000Z` }],
    shadow: [{ ...report.shadow[0], count: 2, distinctKeys: 3, lastSeenAt: `${D2}T12:00:00.000Z` }],
  }, client);
  const d21 = await client.grantUsageDaily.findUniqueOrThrow({ where: { grantId_day: { grantId: ids.grant, day: new Date(D2) } } });
  expect(d21.requestCount).toBe(5n);
  expect((await client.grant.findUniqueOrThrow({ where: { id: ids.grant } })).lastUsedAt?.toISOString()).toBe(`${D2}T09:00:00.000Z`);
  const shadow = await client.shadowEndpoint.findMany();
  expect(shadow).toHaveLength(1);
  expect(shadow[0]).toMatchObject({ environmentId: ids.env, apiId: ids.api, method: "DELETE", requestCount: 5n, distinctKeys: 3 });
  expect(shadow[0].lastSeenAt.toISOString()).toBe(`${D2}T12:00:00.000Z`);
  expect(await client.proxy.count({ where: { name: "unregistered" } })).toBe(0);
});

test("a malformed report is refused naming the field, and nothing is written", async () => {
  const actor = { kind: "service" as const, tokenId: randomUUID(), name: "t", scopes: ["usage:ingest"] };
  const reportId = randomUUID();
  await expect(
    ingestUsageReport(actor, { reportId, proxy: "edge-1", environment: "production", grants: [{ grantId: ids.grant, day: "2026-13-45", count: 1, lastUsedAt: "x" }], credentials: [], shadow: [] }, client),
  ).rejects.toMatchObject({ code: "bad_request", field: "grants.0.day" });
  expect(await client.usageReport.count({ where: { id: reportId } })).toBe(0);
});

test("NUL bytes and lone surrogates in a report or a snapshot query are a 400 naming the field, not a driver error", async () => {
  const actor = { kind: "service" as const, tokenId: randomUUID(), name: "t", scopes: ["usage:ingest", "proxy:sync"] };
  const base = { reportId: randomUUID(), proxy: "edge-1", environment: "production", grants: [], credentials: [], shadow: [] };
  const reports = await client.usageReport.count();
  await expect(ingestUsageReport(actor, { ...base, reportId: "r\u0000" }, client)).rejects.toMatchObject({ code: "bad_request", field: "reportId" });
  await expect(ingestUsageReport(actor, { ...base, proxy: "edge\uD800" }, client)).rejects.toMatchObject({ code: "bad_request", field: "proxy" });
  const shadow = [{ apiId: null, method: "GET", path: "/x\u0000", count: 1, distinctKeys: 1, firstSeenAt: new Date().toISOString(), lastSeenAt: new Date().toISOString() }];
  await expect(ingestUsageReport(actor, { ...base, shadow }, client)).rejects.toMatchObject({ code: "bad_request", field: "shadow.0.path" });
  expect(await client.usageReport.count()).toBe(reports);
  await expect(buildProxySnapshot(actor, { environment: "prod\u0000" }, client)).rejects.toMatchObject({ code: "bad_request", field: "environment" });
  await expect(buildProxySnapshot(actor, { environment: null }, client)).rejects.toMatchObject({ code: "bad_request", field: "environment" });
});

test("the proxy snapshot holds this environment's enforceable state in the admin API's shape", async () => {
  const snap = await buildProxySnapshot(systemActor("test"), { environment: "production" }, client);
  expect(snapshotBody.safeParse({ idempotencyKey: "k", ...snap }).success).toBe(true);
  expect(snap.apis).toEqual([{ id: ids.api, name: "Orders API", prefix: "/orders-api", upstream: "http://orders.internal:9000" }]);
  expect(snap.skipped).toEqual([expect.objectContaining({ kind: "api" })]);
  expect(snap.routes).toEqual([{ id: ids.endpoint, apiId: ids.api, method: "GET", pathTemplate: "/orders/{id}", requirements: [[ids.scope]], public: false }]);
  // The revoked credential and the deprovisioned principal's grant are not enforced.
  expect(snap.credentials.map((c) => c.id)).toEqual([ids.cred]);
  expect(snap.grants.map((g) => g.id)).toEqual([ids.grant]);
  await expect(buildProxySnapshot(systemActor("test"), { environment: "nope" }, client)).rejects.toMatchObject({ code: "not_found" });
  await expect(buildProxySnapshot(systemActor("test"), { environment: null }, client)).rejects.toMatchObject({ code: "bad_request" });
});

test("signals' endpoint and network history: a new pair is inserted, a pair seen over an hour ago gets its lastSeenAt moved, one seen within the hour is left as it was", async () => {
  const cred = (await client.credential.create({ data: { principalId: ids.principal, prefix: "tg_live_his", hash: createHash("sha256").update("history").digest("hex"), createdAt: longAgo } })).id;
  const other = (await client.endpoint.create({ data: { apiId: ids.api, method: "get", pathTemplate: "/orders", scopes: { create: { scopeId: ids.scope } } } })).id;
  const third = (await client.endpoint.create({ data: { apiId: ids.api, method: "get", pathTemplate: "/orders/{id}/items", scopes: { create: { scopeId: ids.scope } } } })).id;
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
  const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
  await client.credentialEndpointSeen.createMany({
    data: [
      { credentialId: cred, endpointId: ids.endpoint, firstSeenAt: longAgo, lastSeenAt: twoHoursAgo },
      { credentialId: cred, endpointId: other, firstSeenAt: longAgo, lastSeenAt: tenMinutesAgo },
    ],
  });
  await client.credentialNetworkSeen.createMany({
    data: [
      { credentialId: cred, network: "10.0.0.0/24", firstSeenAt: longAgo, lastSeenAt: twoHoursAgo },
      { credentialId: cred, network: "10.0.1.0/24", firstSeenAt: longAgo, lastSeenAt: tenMinutesAgo },
    ],
  });
  const before = Date.now();
  const now = new Date().toISOString();
  await ingestUsageReport(
    systemActor("proxy"),
    {
      reportId: randomUUID(),
      proxy: "edge-1",
      environment: "production",
      grants: [],
      credentials: [],
      shadow: [],
      signals: [{ credentialId: cred, grantId: null, endpoints: [ids.endpoint, other, third], networks: ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"], minutes: [{ minute: now, count: 3 }] }],
    },
    client,
  );
  const seen = new Map((await client.credentialEndpointSeen.findMany({ where: { credentialId: cred } })).map((r) => [r.endpointId, r]));
  expect(seen.size).toBe(3);
  expect(seen.get(ids.endpoint)!.lastSeenAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
  expect(seen.get(ids.endpoint)!.firstSeenAt).toEqual(longAgo);
  expect(seen.get(other)!.lastSeenAt).toEqual(tenMinutesAgo);
  expect(seen.get(third)!.firstSeenAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
  const nets = new Map((await client.credentialNetworkSeen.findMany({ where: { credentialId: cred } })).map((r) => [r.network, r]));
  expect(nets.size).toBe(3);
  expect(nets.get("10.0.0.0/24")!.lastSeenAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
  expect(nets.get("10.0.1.0/24")!.lastSeenAt).toEqual(tenMinutesAgo);
  expect(nets.get("10.0.2.0/24")!.firstSeenAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
});
