import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { TREND_DAYS } from "@/lib/analysis/daily-counts";

/**
 * The overview's pictures (issue 19): what a security lead checks each morning. Every figure is
 * one set-based query; the Playwright overview spec recomputes each from the database.
 */
export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export const REMOVAL_STATES = ["enforced", "in flight", "failed", "no proxy needed"] as const;
export const REMOVAL_WEEKS = 12;
/** A proxy with undelivered changes older than this is lagging. */
export const PROXY_LAG_WARN_SECONDS = 60;

export interface OverviewTrends {
  /** Open findings per severity per stored day (FindingDailyCount), oldest first. */
  findingTrend: ({ day: string } & Record<(typeof SEVERITIES)[number], number>)[];
  /** Revokes and reduces applied per ISO week (Monday, UTC), split by enforcement state. */
  removedPerWeek: ({ week: string } & Record<(typeof REMOVAL_STATES)[number], number>)[];
  /** Medians over queue decisions of the last 90 days, in hours (null when there is none). */
  medians: { findingToDecisionHours: number | null; decisionToEnforcementHours: number | null; decisions: number; enforced: number };
  proxies: { id: string; name: string; environment: string; lastSyncAt: Date | null; lastRevision: number | null; pending: number; lagSeconds: number | null; lastError: string | null }[];
  campaigns: { id: string; name: string; period: string; dueAt: Date; total: number; decided: number }[];
  riskiest: { id: string; rule: string; severity: string; riskScore: number; principal: string; api: string; apiId: string; environment: string }[];
}

export async function getOverviewTrends(actor: Actor, client: PrismaClient = db()): Promise<OverviewTrends> {
  authorize(actor, "inventory:read");
  const [trend, removed, medians, proxies, campaigns, riskiest] = await Promise.all([
    client.$queryRawUnsafe<{ day: string; severity: string; open: number }[]>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, severity::text, open FROM "FindingDailyCount"
       WHERE day > (now() AT TIME ZONE 'UTC')::date - ${TREND_DAYS} ORDER BY day`,
    ),
    client.$queryRawUnsafe<{ week: string; state: string; n: number }[]>(
      `SELECT to_char(date_trunc('week', d."createdAt" AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS week,
              CASE d.enforcement WHEN 'applied' THEN 'enforced' WHEN 'pending' THEN 'in flight' WHEN 'failed' THEN 'failed' ELSE 'no proxy needed' END AS state,
              count(*)::int AS n
       FROM "Decision" d
       WHERE d.kind IN ('revoke', 'reduce') AND NOT d."awaitingConfirmation" AND d.discard IS NULL
         AND d."createdAt" >= (date_trunc('week', now() AT TIME ZONE 'UTC') - interval '${REMOVAL_WEEKS - 1} weeks') AT TIME ZONE 'UTC'
       GROUP BY 1, 2`,
    ),
    client.$queryRawUnsafe<{ f2d: number | null; d2e: number | null; decisions: number; enforced: number }[]>(
      `SELECT (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d."createdAt" - f."openedAt")) / 3600)::float8 AS f2d,
              (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d."enforcedAt" - d."createdAt"))
                 FILTER (WHERE d."enforcedAt" IS NOT NULL) / 3600)::float8 AS d2e,
              count(*)::int AS decisions, count(d."enforcedAt")::int AS enforced
       FROM "Decision" d JOIN "Finding" f ON f.id = d."findingId"
       WHERE NOT d."awaitingConfirmation" AND d.discard IS NULL AND d."createdAt" >= now() - interval '90 days'`,
    ),
    client.$queryRawUnsafe<OverviewTrends["proxies"]>(
      `SELECT p.id, p.name, e.name AS environment, p."lastSyncAt", p."lastRevision"::float8 AS "lastRevision", p."lastError",
              count(o.id)::int AS pending,
              extract(epoch FROM now() - min(o."createdAt"))::float8 AS "lagSeconds"
       FROM "Proxy" p JOIN "Environment" e ON e.id = p."environmentId"
       LEFT JOIN "OutboxItem" o ON o."proxyId" = p.id AND o.status <> 'applied'
       GROUP BY p.id, e.name ORDER BY p.name`,
    ),
    client.$queryRawUnsafe<OverviewTrends["campaigns"]>(
      `SELECT c.id, c.name, c.period, c."dueAt", count(ci.id)::int AS total, count(ci.decision)::int AS decided
       FROM "Campaign" c LEFT JOIN "CampaignItem" ci ON ci."campaignId" = c.id
       WHERE c.status IN ('active', 'fallback') GROUP BY c.id ORDER BY c."dueAt", c.name`,
    ),
    client.$queryRawUnsafe<OverviewTrends["riskiest"]>(
      `SELECT f.id, f.rule::text AS rule, f.severity::text AS severity, f."riskScore", p."displayName" AS principal, a.name AS api, a.id AS "apiId", e.name AS environment
       FROM "Finding" f JOIN "Grant" g ON g.id = f."grantId" JOIN "Principal" p ON p.id = g."principalId"
       JOIN "Scope" s ON s.id = g."scopeId" JOIN "Api" a ON a.id = s."apiId" JOIN "Environment" e ON e.id = g."environmentId"
       WHERE f.status = 'open' ORDER BY f."riskScore" DESC, f."openedAt", f.id LIMIT 5`,
    ),
  ]);

  const days = [...new Set(trend.map((t) => t.day))];
  const findingTrend = days.map((day) => {
    const row = { day, critical: 0, high: 0, medium: 0, low: 0 };
    for (const t of trend) if (t.day === day) row[t.severity as (typeof SEVERITIES)[number]] = t.open;
    return row;
  });
  // Every week of the window, empty ones included, so the bars read as a calendar.
  const monday = new Date();
  monday.setUTCHours(0, 0, 0, 0);
  monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
  const removedPerWeek = Array.from({ length: REMOVAL_WEEKS }, (_, i) => {
    const week = new Date(monday.getTime() - (REMOVAL_WEEKS - 1 - i) * 7 * 86_400_000).toISOString().slice(0, 10);
    const row = { week, enforced: 0, "in flight": 0, failed: 0, "no proxy needed": 0 };
    for (const r of removed) if (r.week === week) row[r.state as (typeof REMOVAL_STATES)[number]] = r.n;
    return row;
  });
  const m = medians[0];
  return {
    findingTrend,
    removedPerWeek,
    medians: { findingToDecisionHours: m?.f2d ?? null, decisionToEnforcementHours: m?.d2e ?? null, decisions: m?.decisions ?? 0, enforced: m?.enforced ?? 0 },
    proxies,
    campaigns,
    riskiest,
  };
}
