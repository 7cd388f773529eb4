import { afterAll, beforeAll, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { claimFinding, confirmDecision, decisionStates, getFindingDetail, listQueue, needsSecondReviewCount, parseQueueQuery, revokeGrant } from "./index";

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

test("two-person rule in the queue: the proposer waits, 'Needs 2nd review' lists it for those who may confirm, 'Recently decided' shows it and its outcome", async () => {
  const prod = await makeEnvironment(client, "production");
  const { scopes } = await makeApi(client, prod.id);
  const holder = await makePrincipal(client, { name: "erin" });
  const g = await makeGrant(client, { principalId: holder.id, scopeId: scopes.admin.id, environmentId: prod.id, lastUsedAt: daysAgo(300) });
  const f = await client.finding.create({ data: { grantId: g.id, rule: "dormant", severity: "critical", riskScore: 95, evidence: {}, suggestion: "Revoke" } });
  const second = await makeReviewer(client);
  const holdsIt = await makeReviewer(client, ["reviewer"], holder.id);
  const admin = await makeReviewer(client, ["admin"]);

  const proposed = await revokeGrant(reviewer.actor, { findingId: f.id }, client);
  expect(proposed.enforcement).toBe("proposed");
  const confirmView = (actor: typeof reviewer.actor) => listQueue(actor, parseQueueQuery({ view: "confirm" }), client).then((p) => p.rows.map((r) => r.id));
  expect(await confirmView(reviewer.actor)).toEqual([]);
  expect(await confirmView(second.actor)).toEqual([f.id]);
  expect(await confirmView(holdsIt.actor)).toEqual([]);
  expect([await needsSecondReviewCount(reviewer.actor, client), await needsSecondReviewCount(second.actor, client), await needsSecondReviewCount(admin.actor, client)]).toEqual([0, 1, 0]);

  // The panel tells each person where they stand.
  const mine = await getFindingDetail(reviewer.actor, f.id, client);
  expect(mine.decisions[0]).toMatchObject({ enforcement: "proposed", mayConfirm: false, waiting: "You proposed this: waiting for another reviewer to confirm it." });
  expect((await getFindingDetail(second.actor, f.id, client)).decisions[0]).toMatchObject({ mayConfirm: true, waiting: null });
  const forAdmin = await getFindingDetail(admin.actor, f.id, client);
  expect(forAdmin.viewer.canDecide).toBe(false);
  expect(forAdmin.viewer.reason).toMatch(/separation of duties/);
  expect(forAdmin.decisions[0].mayConfirm).toBe(false);

  // Recently decided lists the waiting proposal first (it has no closedAt yet), with who proposed it.
  const decided = await listQueue(reviewer.actor, parseQueueQuery({ view: "decided" }), client);
  expect(decided.rows[0]).toMatchObject({ id: f.id, decision: { enforcement: "proposed", decider: reviewer.user.name, confirmer: null, environment: prod.name } });

  await confirmDecision(second.actor, { decisionId: proposed.decisionId }, client);
  expect(await confirmView(second.actor)).toEqual([]);
  const after = (await listQueue(reviewer.actor, parseQueueQuery({ view: "decided" }), client)).rows.find((r) => r.id === f.id);
  // No proxy serves this environment: the revoke is recorded as not enforced there, named in the state.
  expect(after?.decision).toMatchObject({ enforcement: "not_required", decider: reviewer.user.name, confirmer: second.user.name, environment: prod.name });
  const [state] = await decisionStates(reviewer.actor, [proposed.decisionId], client);
  expect(state).toMatchObject({ findingId: f.id, enforcement: "not_required", decider: reviewer.user.name, confirmer: second.user.name, environment: prod.name });
});

test("reduce is offered only when keeping the used scopes removes something", async () => {
  const d = await getFindingDetail(reviewer.actor, ids.high, client);
  expect(d.reduce).toEqual({ offered: true, keepScopeIds: [ids.readScope], removes: 1 });
  expect(d.viewer).toEqual({ canDecide: true, reason: null });
  const p = await makePrincipal(client);
  const prod = await makeEnvironment(client, "production");
  const { scopes } = await makeApi(client, prod.id);
  const used = await makeGrant(client, { principalId: p.id, scopeId: scopes.read.id, environmentId: prod.id, lastUsedAt: daysAgo(1) });
  await makeGrant(client, { principalId: p.id, scopeId: scopes.write.id, environmentId: prod.id, lastUsedAt: daysAgo(2) });
  const f = await client.finding.create({ data: { grantId: used.id, rule: "over_privileged", severity: "low", riskScore: 5, evidence: {}, suggestion: "Reduce" } });
  expect((await getFindingDetail(reviewer.actor, f.id, client)).reduce).toMatchObject({ offered: false, removes: 0 });
});
