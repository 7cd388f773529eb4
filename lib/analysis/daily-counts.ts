import type { PrismaClient } from "@/lib/db";

/** How far back the overview's trend reaches (and how far the first run reconstructs). */
export const TREND_DAYS = 90;

/**
 * Stores today's open findings per severity (UTC day) for the overview's trend. Called at the end
 * of every analysis run: a later run the same day overwrites the day's counts with fresher ones.
 * Days in the window that have no row yet (before the first run, or days the scheduler did not
 * run) are reconstructed once from the findings' own openedAt/closedAt and marked "derived";
 * they are never overwritten by a later reconstruction, only by a real run of that day.
 */
export async function recordFindingDailyCounts(client: PrismaClient, now: Date = new Date()): Promise<void> {
  const today = now.toISOString().slice(0, 10);
  await client.$executeRawUnsafe(
    `INSERT INTO "FindingDailyCount" (day, severity, open, source)
     SELECT $1::date, s.severity, count(f.id)::int, 'snapshot'
     FROM unnest(enum_range(NULL::"Severity")) AS s(severity)
     LEFT JOIN "Finding" f ON f.severity = s.severity AND f.status = 'open'
     GROUP BY s.severity
     ON CONFLICT (day, severity) DO UPDATE SET open = EXCLUDED.open, source = 'snapshot', "updatedAt" = now()`,
    today,
  );
  // Open at the end of day d: opened by then and not closed by then.
  await client.$executeRawUnsafe(
    `INSERT INTO "FindingDailyCount" (day, severity, open, source)
     SELECT d.day, s.severity,
            (SELECT count(*)::int FROM "Finding" f
              WHERE f.severity = s.severity AND f."openedAt" < d.day + 1
                AND (f."closedAt" IS NULL OR f."closedAt" >= d.day + 1)
                AND (f.status = 'open' OR f."closedAt" IS NOT NULL)),
            'derived'
     FROM generate_series($1::date - ${TREND_DAYS - 1}, $1::date - 1, interval '1 day') AS d0(ts)
     CROSS JOIN LATERAL (SELECT d0.ts::date AS day) d
     CROSS JOIN unnest(enum_range(NULL::"Severity")) AS s(severity)
     ON CONFLICT (day, severity) DO NOTHING`,
    today,
  );
}
