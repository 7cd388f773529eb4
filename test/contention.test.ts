import { afterAll, beforeAll, describe, expect, test } from "vitest";
import pg from "pg";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { buildContentionWorld, runContention, type ContentionWorld } from "@/test/support/contention";

// Issue 14, item 1 at a small scale: decisions, campaign launches and exports
// at once on ONE small connection pool (the dashboard's, as in production).
// Before the fix, launches held every pooled connection for their whole
// transaction, so decisions failed with Prisma's P2028 ("Unable to start a
// transaction in the given time") and exports could not record their outcome.
// The verdict is about outcomes, never about how long anything took.
let tdb: TestDatabase;
let client: PrismaClient;
let reportPool: pg.Pool;
let world: ContentionWorld;

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  reportPool = new pg.Pool({ connectionString: tdb.url, max: 2 });
  world = await buildContentionWorld(client, { principals: 6_000, findings: 40, reviewers: 4, campaigns: 4 });
}, 600_000);

afterAll(async () => {
  await reportPool?.end();
  await client?.$disconnect();
  await tdb?.drop();
});

describe("decisions, launches and exports at once", () => {
  test("every decision applies or is a clean conflict, every launch completes, every export records its outcome", { timeout: 900_000 }, async () => {
    const r = await runContention(client, world, { decisions: 24, duplicates: 4, exports: 4, reportPool });
    const leaks = [...r.decisions, ...r.launches, ...r.exports].filter((x) => x.code === "unexpected");
    expect(leaks.map((x) => x.message)).toEqual([]);
    // Retryable trouble is retried inside; only the four duplicates may lose, and only as a conflict.
    expect(r.decisions.filter((d) => !d.ok).map((d) => d.code)).toEqual(["conflict", "conflict", "conflict", "conflict"]);
    expect(r.launches.filter((l) => !l.ok)).toEqual([]);
    expect(r.exports.filter((e) => !e.ok)).toEqual([]);

    // The database agrees: 20 decided findings, every launch active, no export left "running".
    expect(await client.decision.count()).toBe(20);
    expect(await client.campaign.count({ where: { status: "active" } })).toBe(4);
    const records = await client.reportExport.findMany({ select: { id: true, status: true, sha256: true, rowCount: true } });
    expect(records).toHaveLength(4);
    for (const rec of records) expect(rec).toMatchObject({ status: "completed", rowCount: 24_000 });
    for (const rec of records) expect(rec.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Every audited write made it into one unbroken chain.
    expect(await client.auditEvent.count({ where: { action: { startsWith: "report.export_" } } })).toBe(8);
  });
});
