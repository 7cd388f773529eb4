import { afterAll, beforeAll, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { claimFinding, getFindingDetail, listQueue, parseQueueQuery, revokeGrant } from "./index";

let tdb: TestDatabase;
let client: PrismaClient;
let reviewer: Awaited<ReturnType<typeof makeReviewer>>;
let ids: { high: string; low: string; stage: string; stageEnv: string; readScope: string };

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  reviewer = await makeReviewer(client);
  const prod = await makeEnvironment(client, "production");
  const stage = await makeEnvironment(client, "staging");
  const { scopes } = await makeApi(client, prod.id);
  const stageApi = await makeApi(client, stage.id);
  const p = await makePrincipal(client, { name: "carol" });
  const read = await makeGrant(client, { principalId: p.id, scopeId: scopes.read.id, environmentId: prod.id, lastUsedAt: daysAgo(1) });
  const write = await makeGrant(client, { principalId: p.id, scopeId: scopes.write.id, environmentId: prod.id, lastUsedAt: daysAgo(200) });
  await client.grantUsageDaily.create({ data: { grantId: write.id, day: new Date(new Date().toISOString().slice(0, 10)), requestCount: 7 } });
  const s = await makeGrant(client, { principalId: p.id, scopeId: stageApi.scopes.read.id, environmentId: stage.id, lastUsedAt: daysAgo(300) });
  const mk = (grantId: string, rule: "dormant" | "over_privileged", severity: "high" | "low", riskScore: number) =>
    client.finding.create({ data: { grantId, rule, severity, riskScore, evidence: { reason: `because ${rule}` }, suggestion: "Revoke" } }).then((f) => f.id);
  ids = { high: await mk(write.id, "over_privileged", "high", 70), low: await mk(read.id, "dormant", "low", 10), stage: await mk(s.id, "dormant", "low", 20), stageEnv: stage.id, readScope: scopes.read.id };
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

test("open findings, riskiest first, filtered by rule, environment and assignee through URL params", async () => {
  const all = await listQueue(reviewer.actor, parseQueueQuery({}), client);
  expect(all.rows.map((r) => r.id)).toEqual([ids.high, ids.stage, ids.low]);
  expect(all.rows[0]).toMatchObject({ principal: "carol", rule: "over_privileged", reason: "because over_privileged", decision: null });
  expect((await listQueue(reviewer.actor, parseQueueQuery({ rule: "dormant" }), client)).rows.map((r) => r.id)).toEqual([ids.stage, ids.low]);
  expect((await listQueue(reviewer.actor, parseQueueQuery({ environment: ids.stageEnv }), client)).rows.map((r) => r.id)).toEqual([ids.stage]);
  expect((await listQueue(reviewer.actor, parseQueueQuery({ rule: "bogus", perPage: "7" }), client)).rows).toHaveLength(3);
  await claimFinding(reviewer.actor, { findingId: ids.low }, client);
  expect((await listQueue(reviewer.actor, parseQueueQuery({ assignee: "me" }), client)).rows.map((r) => r.id)).toEqual([ids.low]);
  expect((await listQueue(reviewer.actor, parseQueueQuery({ assignee: "unassigned" }), client)).rows.map((r) => r.id)).toEqual([ids.high, ids.stage]);
});

test("detail shows scopes used vs granted, a zero-filled 90-day usage series, and decisions with their enforcement state", async () => {
  const d = await getFindingDetail(reviewer.actor, ids.high, client);
  expect(d.scopesOnApi.map((s) => [s.level, s.usedInWindow])).toEqual([["read", true], ["write", false]]);
  expect(d.usage).toHaveLength(90);
  expect(d.usage.at(-1)!.requests).toBe(7);
  await revokeGrant(reviewer.actor, { findingId: ids.stage }, client);
  const decided = await listQueue(reviewer.actor, parseQueueQuery({ view: "decided" }), client);
  expect(decided.rows.map((r) => [r.id, r.decision?.kind, r.decision?.enforcement])).toEqual([[ids.stage, "revoke", "not_required"]]);
});

test("the API filter takes every environment an API name is deployed in, combines with severity, and is counted", async () => {
  const prod = await makeEnvironment(client, "production");
  const stage = await makeEnvironment(client, "staging");
  const name = `ledger-${Math.random().toString(36).slice(2, 8)}`;
  const inProd = await makeApi(client, prod.id, ["read"], { name });
  const inStage = await makeApi(client, stage.id, ["read"], { name });
  const other = await makeApi(client, prod.id, ["read"]);
  const p = await makePrincipal(client, { name: "dave" });
  const finding = async (scopeId: string, environmentId: string, severity: "high" | "low", riskScore: number) => {
    const g = await makeGrant(client, { principalId: p.id, scopeId, environmentId, lastUsedAt: daysAgo(300) });
    // Written without apiId/environmentId, as other writers do: the database fills them from the grant.
    return client.finding.create({ data: { grantId: g.id, rule: "dormant", severity, riskScore, evidence: {}, suggestion: "Revoke" } });
  };
  const a = await finding(inProd.scopes.read.id, prod.id, "high", 65);
  const b = await finding(inStage.scopes.read.id, stage.id, "low", 30);
  await finding(other.scopes.read.id, prod.id, "high", 66);
  expect([a.apiId, a.environmentId]).toEqual([inProd.api.id, prod.id]);

  const byApi = await listQueue(reviewer.actor, parseQueueQuery({ api: name }), client);
  expect(byApi.rows.map((r) => r.id)).toEqual([a.id, b.id]);
  expect(byApi.rows.map((r) => r.api)).toEqual([name, name]);
  expect(byApi.total).toBe(2);
  const high = await listQueue(reviewer.actor, parseQueueQuery({ api: name, severity: "high" }), client);
  expect(high.rows.map((r) => r.id)).toEqual([a.id]);
  const inStageOnly = await listQueue(reviewer.actor, parseQueueQuery({ api: name, environment: stage.id }), client);
  expect([inStageOnly.rows.map((r) => r.id), inStageOnly.total]).toEqual([[b.id], 1]);
  expect((await listQueue(reviewer.actor, parseQueueQuery({ api: "no-such-api" }), client)).rows).toEqual([]);
});
