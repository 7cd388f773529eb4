import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor } from "@/lib/auth/actor";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { analyzePrincipal, runAnalysis } from "./index";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal } from "./fixtures";

let tdb: TestDatabase;
let client: PrismaClient;
const system = systemActor("test");
const now = new Date();

async function openFindings(grantId: string) {
  const rows = await client.finding.findMany({ where: { grantId, status: "open" }, select: { rule: true } });
  return rows.map((r) => r.rule).sort();
}

const fx: Record<string, string> = {};

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  const prod = await makeEnvironment(client, "production");
  const dev = await makeEnvironment(client, "development");
  const team = await client.team.create({ data: { name: "gone-team", deletedAt: daysAgo(3) } });
  const { scopes } = await makeApi(client, prod.id);
  const grant = (principalId: string, scope: keyof typeof scopes, o: Partial<Parameters<typeof makeGrant>[1]> = {}) =>
    makeGrant(client, { principalId, scopeId: scopes[scope].id, environmentId: prod.id, ...o }).then((g) => g.id);

  // Used as granted: a user who reads and writes, both recently. Must not be flagged.
  const busy = await makePrincipal(client, { name: "busy-user" });
  fx.usedRead = await grant(busy.id, "read", { lastUsedAt: daysAgo(1) });
  fx.usedWrite = await grant(busy.id, "write", { lastUsedAt: daysAgo(2) });
  // Dormant: last used 200 days ago.
  const sleeper = await makePrincipal(client, { name: "sleeper" });
  fx.dormant = await grant(sleeper.id, "read", { lastUsedAt: daysAgo(200) });
  // Never used, granted long ago; and one granted recently (inside window + grace): not judged.
  const idle = await makePrincipal(client, { name: "idle" });
  fx.neverUsed = await grant(idle.id, "read", { lastUsedAt: null });
  fx.tooYoung = await grant(idle.id, "write", { grantedAt: daysAgo(95), lastUsedAt: null });
  // Over-privileged: reads daily, never writes.
  const reader = await makePrincipal(client, { name: "reader" });
  fx.readerRead = await grant(reader.id, "read", { lastUsedAt: daysAgo(1) });
  fx.readerWrite = await grant(reader.id, "write", { lastUsedAt: daysAgo(150) });
  // Orphaned: deprovisioned user, and a user whose team was deleted.
  const leaver = await makePrincipal(client, { name: "leaver", status: "deprovisioned" });
  fx.orphan = await grant(leaver.id, "read", { lastUsedAt: daysAgo(1) });
  const teamless = await makePrincipal(client, { name: "teamless", teamId: team.id });
  fx.orphanTeam = await grant(teamless.id, "read", { lastUsedAt: daysAgo(1) });
  // Expired but still active.
  const temp = await makePrincipal(client, { name: "contractor" });
  fx.expired = await grant(temp.id, "read", { lastUsedAt: daysAgo(1), expiresAt: daysAgo(2) });
  // Stale credential: not rotated in 300 days.
  const bot = await makePrincipal(client, { name: "old-key", kind: "api_key" });
  await client.credential.create({ data: { principalId: bot.id, prefix: "tg_live_old", hash: "a".repeat(64), createdAt: daysAgo(300) } });
  fx.staleCred = await grant(bot.id, "read", { lastUsedAt: daysAgo(1) });
  // Cross-environment: a dev service account in production; privileged service: admin scope.
  const devSvc = await makePrincipal(client, { name: "dev-ci", kind: "service_account", homeEnvironmentId: dev.id });
  fx.crossEnv = await grant(devSvc.id, "read", { lastUsedAt: daysAgo(1) });
  const svc = await makePrincipal(client, { name: "billing-svc", kind: "service_account", homeEnvironmentId: prod.id });
  fx.privileged = await grant(svc.id, "admin", { lastUsedAt: daysAgo(1) });
  fx.leaverId = leaver.id;
  fx.sleeperId = sleeper.id;
  fx.prodId = prod.id;
});

afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

describe("rules", () => {
  test("each planted case is found by its rule", async () => {
    const { stats } = await runAnalysis(system, { now }, client);
    expect(stats.heldBack).toEqual([]);
    expect(await openFindings(fx.dormant)).toEqual(["dormant"]);
    expect(await openFindings(fx.neverUsed)).toEqual(["never_used"]);
    expect(await openFindings(fx.readerWrite)).toEqual(["dormant", "over_privileged"]);
    expect(await openFindings(fx.orphan)).toEqual(["orphaned"]);
    expect(await openFindings(fx.orphanTeam)).toEqual(["orphaned"]);
    expect(await openFindings(fx.expired)).toEqual(["expired_active"]);
    expect(await openFindings(fx.staleCred)).toEqual(["stale_credential"]);
    expect(await openFindings(fx.crossEnv)).toEqual(["cross_environment"]);
    expect(await openFindings(fx.privileged)).toEqual(["privileged_service"]);
    const over = await client.finding.findFirstOrThrow({ where: { grantId: fx.readerWrite, rule: "over_privileged" } });
    expect(over.suggestion).toMatch(/Reduce to the scopes actually used: .*:read/);
    expect((over.evidence as { keepScopeIds: string[] }).keepScopeIds).toHaveLength(1);
  });

  test("grants used as granted, and grants too young to judge, are not flagged", async () => {
    expect(await openFindings(fx.usedRead)).toEqual([]);
    expect(await openFindings(fx.usedWrite)).toEqual([]);
    expect(await openFindings(fx.readerRead)).toEqual([]);
    expect(await openFindings(fx.tooYoung)).toEqual([]);
  });

  test("a re-run on unchanged data changes nothing", async () => {
    const before = await client.finding.findMany({ orderBy: { id: "asc" } });
    const { stats } = await runAnalysis(system, { now }, client);
    for (const r of Object.values(stats.rules)) expect([r!.opened, r!.updated, r!.closed]).toEqual([0, 0, 0]);
    expect(await client.finding.findMany({ orderBy: { id: "asc" } })).toEqual(before);
    const runs = await client.analysisRun.findMany({ orderBy: { startedAt: "asc" } });
    expect(runs.map((r) => [r.status, r.progress])).toEqual([["succeeded", 100], ["succeeded", 100]]);
  });

  test("a finding closes by itself when its grant is used again or revoked", async () => {
    await client.grant.update({ where: { id: fx.dormant }, data: { lastUsedAt: daysAgo(0) } });
    await client.grant.update({ where: { id: fx.neverUsed }, data: { status: "revoked", revokedAt: new Date() } });
    const { stats } = await runAnalysis(system, { now }, client);
    expect(stats.rules.dormant!.closed).toBeGreaterThanOrEqual(1);
    const dormant = await client.finding.findFirstOrThrow({ where: { grantId: fx.dormant, rule: "dormant" } });
    expect([dormant.status, dormant.closedReason]).toEqual(["closed", "Condition no longer holds"]);
    const never = await client.finding.findFirstOrThrow({ where: { grantId: fx.neverUsed } });
    expect([never.status, never.closedReason]).toEqual(["closed", "Grant is no longer active (revoked)"]);
  });

  test("an approved finding is not re-flagged until its re-review date", async () => {
    await client.finding.updateMany({
      where: { grantId: fx.crossEnv, status: "open" },
      data: { status: "approved", closedAt: now, reReviewAt: new Date(now.getTime() + 30 * 86_400_000) },
    });
    await runAnalysis(system, { now }, client);
    expect(await openFindings(fx.crossEnv)).toEqual([]);
    // 31 days later the approval has lapsed and the rule flags the grant again.
    await runAnalysis(system, { now: new Date(now.getTime() + 31 * 86_400_000) }, client);
    expect(await openFindings(fx.crossEnv)).toContain("cross_environment");
  });

  test("usage-based rules are held back for an environment whose proxy feed is stale, and the run says why", async () => {
    const proxy = await client.proxy.create({
      data: { name: "prod-edge", adminUrl: "http://127.0.0.1:1", adminToken: "t", environmentId: fx.prodId, lastReportAt: daysAgo(9, now) },
    });
    const sleeper2 = await makePrincipal(client, { name: "sleeper-2" });
    const scope = await client.scope.findFirstOrThrow({ where: { level: "read", api: { environmentId: fx.prodId } } });
    const g = await makeGrant(client, { principalId: sleeper2.id, scopeId: scope.id, environmentId: fx.prodId, lastUsedAt: daysAgo(300) });
    const openBefore = await client.finding.count({ where: { status: "open", rule: { in: ["dormant", "never_used", "over_privileged"] } } });
    const { stats } = await runAnalysis(system, { now }, client);
    expect(stats.heldBack).toHaveLength(1);
    expect(stats.heldBack[0].reason).toMatch(/^Held back because proxy prod-edge last reported usage at .* more than 5 days ago$/);
    expect(await openFindings(g.id)).toEqual([]);
    // Existing usage-based findings stay as they are: a stale feed cannot close them either.
    expect(await client.finding.count({ where: { status: "open", rule: { in: ["dormant", "never_used", "over_privileged"] } } })).toBe(openBefore);
    await client.proxy.update({ where: { id: proxy.id }, data: { lastReportAt: now } });
    await runAnalysis(system, { now }, client);
    expect(await openFindings(g.id)).toEqual(["dormant"]);
    await client.proxy.delete({ where: { id: proxy.id } });
  });

  test("analyzePrincipal flags a just-deprovisioned principal's grants at once", async () => {
    await client.principal.update({ where: { id: fx.sleeperId }, data: { status: "suspended" } });
    const stats = await client.$transaction((tx) => analyzePrincipal(tx, fx.sleeperId, now));
    expect(stats.opened).toBe(1);
    expect(await openFindings(fx.dormant)).toEqual(["orphaned"]);
    // Only that principal was looked at: the other orphan findings are untouched.
    expect(await openFindings(fx.orphan)).toEqual(["orphaned"]);
  });
});

test("a second run while one is in progress is a 409 conflict, not a crash", async () => {
  const running = await client.analysisRun.create({ data: { status: "running", progress: 0 } });
  try {
    await expect(runAnalysis(system, {}, client)).rejects.toMatchObject({ code: "conflict", status: 409 });
  } finally {
    await client.analysisRun.update({ where: { id: running.id }, data: { status: "failed", finishedAt: new Date() } });
  }
});
