import { afterAll, beforeAll, expect, test } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { createDb, type PrismaClient } from "@/lib/db";
import { seedScale } from "@/lib/seed/scale";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { runAnalysis } from "./index";

// The benchmark's synthetic inventory (seedScale) must look like issue 5's scenario —
// about one grant in ten with an open finding, every rule represented — or the
// analysis and queue figures in docs/BENCHMARKS.md measure the wrong thing.
let tdb: TestDatabase;
let client: PrismaClient;
const GRANTS = 40_000;

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  await seedScale(client, { grants: GRANTS });
}, 120_000);
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

test("the scale inventory's risk mix: ~10% of grants flagged, every rule represented, a re-run writes nothing", async () => {
  const first = await runAnalysis(systemActor("test"), {}, client);
  const byRule = await client.finding.groupBy({ by: ["rule"], where: { status: "open" }, _count: true });
  const counts = Object.fromEntries(byRule.map((r) => [r.rule, r._count]));
  for (const rule of ["dormant", "never_used", "over_privileged", "orphaned", "expired_active", "stale_credential", "cross_environment", "privileged_service", "deprecated_scope"]) {
    expect(counts[rule] ?? 0, rule).toBeGreaterThan(0);
  }
  const [{ flagged }] = await client.$queryRaw<{ flagged: number }[]>`SELECT count(DISTINCT "grantId")::int AS flagged FROM "Finding" WHERE status = 'open'`;
  expect(flagged / GRANTS).toBeGreaterThan(0.07);
  expect(flagged / GRANTS).toBeLessThan(0.12);
  // Most grants are used as granted: no usage-based rule dominates the queue.
  expect((counts.dormant + counts.never_used + counts.over_privileged) / GRANTS).toBeLessThan(0.08);
  expect(first.stats.usagePass!.unusedGrants).toBeGreaterThan(0);

  const again = await runAnalysis(systemActor("test"), {}, client);
  for (const r of Object.values(again.stats.rules)) expect([r!.opened, r!.updated, r!.closed]).toEqual([0, 0, 0]);
}, 120_000);
