import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";

// instrumentation.ts starts this in the Next server: the delivery worker and the pg-boss schedules.
let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
  process.env.DATABASE_URL = tdb.url;
});
afterAll(async () => {
  const { db } = await import("@/lib/db");
  await db().$disconnect();
  await tdb?.drop();
});

test("starts the worker and registers the analysis, reconciliation, campaign, abandoned-export and access-expiry schedules in pg-boss", async () => {
  const { startBackground, ANALYSIS_QUEUE, RECONCILE_QUEUE, EXPORTS_QUEUE, ACCESS_QUEUE } = await import("./background");
  const { CAMPAIGN_QUEUE } = await import("@/lib/campaigns/jobs");
  const { worker, boss } = await startBackground();
  try {
    expect(boss).not.toBeNull();
    const schedules = await boss!.getSchedules();
    expect(schedules.map((s) => s.name).sort()).toEqual([ANALYSIS_QUEUE, RECONCILE_QUEUE, CAMPAIGN_QUEUE, EXPORTS_QUEUE, ACCESS_QUEUE].sort());
    // Started once per process, however often instrumentation calls it.
    expect((await startBackground()).worker).toBe(worker);
  } finally {
    await worker.stop();
    await boss?.stop({ graceful: false });
  }
});
