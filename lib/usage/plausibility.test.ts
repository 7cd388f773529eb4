import { createHash, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { serviceToken, useAppDatabase } from "@/test/support/use-test-database";

// Issue 14 item 2: a usage:ingest token could set a grant's last use to year
// 9999 (so it never looked dormant), year 0000 was a 500, and three counts of
// 10^9 for one grant-day overflowed the column (500s for every later report).
// Each refusal must be a 400 naming the entry, with the grant unchanged.
const DAY_MS = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
const at = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString();

const ctx = useAppDatabase();
let ingest: typeof import("./ingest").ingestUsageReport;
const actor = { kind: "service" as const, tokenId: randomUUID(), name: "edge", scopes: ["usage:ingest"] };
const ids = { env: "", api: "", otherApi: "", grant: "", newGrant: "", cred: "" };
let token = "";

beforeAll(async () => {
  ({ ingestUsageReport: ingest } = await import("./ingest"));
  const env = await ctx.client.environment.create({ data: { name: "production", tier: "production" } });
  const staging = await ctx.client.environment.create({ data: { name: "staging", tier: "staging" } });
  const api = await ctx.client.api.create({ data: { name: "Orders", baseUrl: "http://orders.internal/", environmentId: env.id } });
  const otherApi = await ctx.client.api.create({ data: { name: "Orders", baseUrl: "http://orders.staging/", environmentId: staging.id } });
  const scope = await ctx.client.scope.create({ data: { apiId: api.id, name: "orders:read", level: "read" } });
  const scope2 = await ctx.client.scope.create({ data: { apiId: api.id, name: "orders:write", level: "write" } });
  const p = await ctx.client.principal.create({ data: { kind: "service_account", displayName: "billing" } });
  const grant = await ctx.client.grant.create({ data: { principalId: p.id, scopeId: scope.id, environmentId: env.id, grantedAt: new Date(Date.now() - 100 * DAY_MS), lastUsedAt: new Date(Date.now() - 95 * DAY_MS) } });
  const newGrant = await ctx.client.grant.create({ data: { principalId: p.id, scopeId: scope2.id, environmentId: env.id } });
  const cred = await ctx.client.credential.create({ data: { principalId: p.id, prefix: "tg_live_x", hash: createHash("sha256").update("k").digest("hex") } });
  Object.assign(ids, { env: env.id, api: api.id, otherApi: otherApi.id, grant: grant.id, newGrant: newGrant.id, cred: cred.id });
  token = await serviceToken("edge", ["usage:ingest"]);
});

const report = (over: Record<string, unknown>) => ({ reportId: randomUUID(), proxy: "edge-1", environment: "production", grants: [], credentials: [], shadow: [], ...over });
const grantRow = () => ctx.client.grant.findUniqueOrThrow({ where: { id: ids.grant } });

async function refused(over: Record<string, unknown>, field: string, message?: RegExp) {
  const before = await grantRow();
  const usageBefore = await ctx.client.grantUsageDaily.count();
  const r = report(over);
  const err = await ingest(actor, r).catch((e) => e);
  expect(err, JSON.stringify(over).slice(0, 200)).toMatchObject({ code: "bad_request", field });
  if (message) expect(err.message).toMatch(message);
  expect(await grantRow()).toEqual(before);
  expect(await ctx.client.grantUsageDaily.count()).toBe(usageBefore);
  expect(await ctx.client.usageReport.count({ where: { id: r.reportId } })).toBe(0);
}

describe("usage reports that cannot be true are refused, the grant unchanged", () => {
  it("a last use in the far future (which would hide a dormant grant for ever)", async () => {
    await refused({ grants: [{ grantId: ids.grant, day: day(0), count: 1, lastUsedAt: "9999-12-31T23:59:59Z" }] }, "grants.0.lastUsedAt", /between 2000-01-01 and now/);
    await refused({ grants: [{ grantId: ids.grant, day: day(0), count: 1, lastUsedAt: at(1) }] }, "grants.0.lastUsedAt");
    await refused({ grants: [{ grantId: ids.grant, day: day(2), count: 1, lastUsedAt: at(0) }] }, "grants.0.day");
    await refused({ credentials: [{ credentialId: ids.cred, lastUsedAt: "9999-12-31T23:59:59Z" }] }, "credentials.0.lastUsedAt");
  });

  it("year 0000 (a 500 from Postgres before)", async () => {
    await refused({ grants: [{ grantId: ids.grant, day: "0000-01-01", count: 1, lastUsedAt: at(0) }] }, "grants.0.day");
    await refused({ grants: [{ grantId: ids.grant, day: day(0), count: 1, lastUsedAt: "0000-01-01T00:00:00Z" }] }, "grants.0.lastUsedAt");
    await refused({ shadow: [{ apiId: null, method: "GET", path: "/x", count: 1, distinctKeys: 1, firstSeenAt: "0000-01-01T00:00:00Z", lastSeenAt: at(0) }] }, "shadow.0.firstSeenAt");
  });

  it("usage dated before the grant or credential existed (less a slack)", async () => {
    await refused({ grants: [{ grantId: ids.newGrant, day: day(-10), count: 1, lastUsedAt: at(-10) }] }, "grants.0", /predates grant/);
    await refused({ credentials: [{ credentialId: ids.cred, lastUsedAt: at(-10) }] }, "credentials.0", /before credential/);
    // Yesterday is inside the slack (a proxy's clock may lag; days are UTC).
    await expect(ingest(actor, report({ grants: [{ grantId: ids.newGrant, day: day(-1), count: 1, lastUsedAt: at(-0.5) }] }))).resolves.toMatchObject({ accepted: true, grantDays: 1 });
  });

  it("counts: bounded per report and grant-day, and the running total cannot overflow", async () => {
    const big = { grantId: ids.grant, day: day(-1), count: 1_000_000_000, lastUsedAt: at(-1) };
    await refused({ grants: [big, big, big] }, "grants.1.count", /add up to more than 1000000000 in one report/);
    // Three reports at the bound: 3e9 is past INTEGER; every later report for the day still lands.
    for (let i = 0; i < 3; i++) await expect(ingest(actor, report({ grants: [big] }))).resolves.toMatchObject({ accepted: true });
    await expect(ingest(actor, report({ grants: [{ ...big, count: 5 }] }))).resolves.toMatchObject({ accepted: true });
    const row = await ctx.client.grantUsageDaily.findUniqueOrThrow({ where: { grantId_day: { grantId: ids.grant, day: new Date(day(-1)) } } });
    expect(row.requestCount).toBe(3_000_000_005n);
  });

  it("shadow observations naming an API that does not exist (here or in this environment), or an unknown environment", async () => {
    const obs = { method: "GET", path: "/x", count: 1, distinctKeys: 1, firstSeenAt: at(-1), lastSeenAt: at(0) };
    await refused({ shadow: [{ ...obs, apiId: null }, { ...obs, apiId: randomUUID() }] }, "shadow.1.apiId", /no API/);
    await refused({ shadow: [{ ...obs, apiId: ids.otherApi }] }, "shadow.0.apiId");
    await refused({ environment: "nowhere", shadow: [{ ...obs, apiId: null }] }, "environment");
    await refused({ shadow: [{ ...obs, apiId: null, firstSeenAt: at(0), lastSeenAt: at(-1) }] }, "shadow.0.lastSeenAt");
    expect(await ctx.client.shadowEndpoint.count()).toBe(0);
  });
});

describe("usage signals that cannot be true are refused (issue 22)", () => {
  const signal = (over: Record<string, unknown>) => ({ credentialId: ids.cred, grantId: ids.grant, endpoints: [], networks: ["10.0.0.0/24"], minutes: [{ minute: at(0), count: 3 }], ...over });
  it("minutes before the credential existed, in the future, or with no count; networks that are not a /24 or /48", async () => {
    await refused({ signals: [signal({ minutes: [{ minute: at(-10), count: 3 }] })] }, "signals.0.minutes", /before credential/);
    await refused({ signals: [signal({ minutes: [{ minute: "9999-12-31T23:59:00Z", count: 3 }] })] }, "signals.0.minutes.0.minute");
    await refused({ signals: [signal({ minutes: [{ minute: at(0), count: 0 }] })] }, "signals.0.minutes.0.count");
    await refused({ signals: [signal({ networks: ["10.0.0.7"] })] }, "signals.0.networks.0", /IPv4 \/24 or IPv6 \/48/);
    await refused({ signals: [signal({ endpoints: ["not-an-id"] })] }, "signals.0.endpoints.0");
  });
});

describe("POST /api/v1/usage", () => {
  it("refuses a body that is not UTF-8 with a 400, writing nothing", async () => {
    const { POST } = await import("@/app/api/v1/usage/route");
    const json = Buffer.from(JSON.stringify(report({ proxy: "edge-\u00e9" })));
    const at = json.indexOf(Buffer.from("\u00e9"));
    json[at] = 0xff; // no UTF-8 sequence starts with 0xFF
    const reports = await ctx.client.usageReport.count();
    const res = await POST(new Request("http://localhost/api/v1/usage", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: json }));
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain("not valid UTF-8");
    expect(await ctx.client.usageReport.count()).toBe(reports);
  });
});
