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
  const { startBackground, ANALYSIS_QUEUE, RECONCILE_QUEUE, EXPORTS_QUEUE, ACCESS_QUEUE, REMEDIATION_QUEUE } = await import("./background");
  const { CAMPAIGN_QUEUE } = await import("@/lib/campaigns/jobs");
  const { worker, boss } = await startBackground();
  try {
    expect(boss).not.toBeNull();
    const schedules = await boss!.getSchedules();
    expect(schedules.map((s) => s.name).sort()).toEqual([ANALYSIS_QUEUE, RECONCILE_QUEUE, CAMPAIGN_QUEUE, EXPORTS_QUEUE, ACCESS_QUEUE, REMEDIATION_QUEUE].sort());
    // Started once per process, however often instrumentation calls it.
    expect((await startBackground()).worker).toBe(worker);
  } finally {
    await worker.stop();
    await boss?.stop({ graceful: false });
  }
});

test("one job that cannot be registered does not stop the others", async () => {
  const { registerJobs } = await import("./background");
  const { PgBoss } = await import("pg-boss");
  const boss = new PgBoss({ connectionString: tdb.url, max: 2 });
  boss.on("error", () => undefined);
  await boss.start();
  const logged: string[] = [];
  try {
    // The cron is validated at start-up; this bypasses that to prove registration itself is isolated.
    const noop = async () => undefined;
    const out = await registerJobs(
      boss,
      [
        { queue: "first-job", cron: "* * * * *", work: noop },
        { queue: "broken-job", cron: "61 * * * *", work: noop },
        { queue: "last-job", cron: "*/5 * * * *", work: noop },
      ],
      (msg) => logged.push(msg),
    );
    expect(out.registered).toEqual(["first-job", "last-job"]);
    expect(out.failed).toEqual([{ queue: "broken-job", error: expect.any(String) }]);
    expect(logged.join("\n")).toContain("broken-job");
    const names = (await boss.getSchedules()).map((s) => s.name);
    expect(names).toContain("first-job");
    expect(names).toContain("last-job");
    expect(names).not.toContain("broken-job");
  } finally {
    await boss.stop({ graceful: false });
  }
});
