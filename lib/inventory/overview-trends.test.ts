import { expect, test } from "vitest";
import { useTestDatabase } from "@/test/support/use-test-database";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { recordFindingDailyCounts } from "@/lib/analysis/daily-counts";
import { revokeGrant } from "@/lib/review";
import { getOverviewTrends } from "./overview-trends";

// The overview's stored trend and figures against a real database of this file's own.
const ctx = useTestDatabase(3);

test("daily counts: today is counted, earlier days derived from open/close times, a later run overwrites only today", async () => {
  const c = ctx.client;
  const env = await makeEnvironment(c, "production");
  const { scopes } = await makeApi(c, env.id, ["read", "write"]);
  const p = await makePrincipal(c, { name: "dora" });
  const g1 = await makeGrant(c, { principalId: p.id, scopeId: scopes.read.id, environmentId: env.id });
  const g2 = await makeGrant(c, { principalId: p.id, scopeId: scopes.write.id, environmentId: env.id });
  // High: open for 10 days. Critical: opened 20 days ago, closed 5 days ago.
  const high = await c.finding.create({ data: { grantId: g1.id, rule: "dormant", severity: "high", riskScore: 60, evidence: {}, suggestion: "x", openedAt: daysAgo(10) } });
  await c.finding.create({ data: { grantId: g2.id, rule: "over_privileged", severity: "critical", riskScore: 95, evidence: {}, suggestion: "x", openedAt: daysAgo(20), status: "closed", closedAt: daysAgo(5) } });
  await recordFindingDailyCounts(c);
  const rows = await c.findingDailyCount.findMany({ orderBy: [{ day: "asc" }, { severity: "asc" }] });
  const at = (n: number, severity: string) => rows.find((r) => r.day.toISOString().slice(0, 10) === daysAgo(n).toISOString().slice(0, 10) && r.severity === severity);
  expect(rows.length).toBe(90 * 4);
  expect(at(0, "high")).toMatchObject({ open: 1, source: "snapshot" });
  expect(at(0, "critical")).toMatchObject({ open: 0, source: "snapshot" });
  expect(at(7, "critical")).toMatchObject({ open: 1, source: "derived" });
  expect(at(7, "high")).toMatchObject({ open: 1, source: "derived" });
  expect(at(15, "high")).toMatchObject({ open: 0, source: "derived" });
  expect(at(3, "critical")).toMatchObject({ open: 0 });

  // Closing the high finding and running again: today changes, the past stays as stored.
  await c.finding.update({ where: { id: high.id }, data: { status: "closed", closedAt: new Date() } });
  await recordFindingDailyCounts(c);
  expect(await c.findingDailyCount.count()).toBe(90 * 4);
  expect((await c.findingDailyCount.findFirstOrThrow({ where: { day: new Date(new Date().toISOString().slice(0, 10)), severity: "high" } })).open).toBe(0);
  expect((await c.findingDailyCount.findFirstOrThrow({ where: { day: new Date(daysAgo(7).toISOString().slice(0, 10)), severity: "high" } })).open).toBe(1);

  // The overview reads them back, oldest first, one row per day.
  const reviewer = await makeReviewer(c);
  const t = await getOverviewTrends(reviewer.actor, c);
  expect(t.findingTrend).toHaveLength(90);
  expect(t.findingTrend.at(-1)).toMatchObject({ high: 0, critical: 0 });
  expect(t.findingTrend.at(-8)).toMatchObject({ high: 1, critical: 1 });
});

test("removals per week, medians and the riskiest findings", async () => {
  const c = ctx.client;
  const env = await makeEnvironment(c, "staging");
  const { scopes } = await makeApi(c, env.id, ["read"]);
  const p = await makePrincipal(c, { name: "eve" });
  const g = await makeGrant(c, { principalId: p.id, scopeId: scopes.read.id, environmentId: env.id });
  const f = await c.finding.create({ data: { grantId: g.id, rule: "dormant", severity: "medium", riskScore: 99, evidence: {}, suggestion: "x", openedAt: new Date(Date.now() - 3 * 3_600_000) } });
  const reviewer = await makeReviewer(c);
  const before = await getOverviewTrends(reviewer.actor, c);
  expect(before.riskiest[0]).toMatchObject({ id: f.id, riskScore: 99, principal: "eve" });
  await revokeGrant(reviewer.actor, { findingId: f.id, justification: "not used by eve any more" }, c);
  const after = await getOverviewTrends(reviewer.actor, c);
  expect(after.removedPerWeek).toHaveLength(12);
  const thisWeek = after.removedPerWeek.at(-1)!;
  // No proxy serves staging: the revoke needs none.
  expect(thisWeek["no proxy needed"] + thisWeek["in flight"] + thisWeek.enforced).toBe(1);
  expect(after.medians.decisions).toBe(1);
  expect(after.medians.findingToDecisionHours).toBeGreaterThan(2.9);
  expect(after.medians.findingToDecisionHours).toBeLessThan(3.2);
  expect(after.riskiest.find((r) => r.id === f.id)).toBeUndefined();
});
