import type { PrismaClient } from "@/lib/db";

/**
 * Effects without their audit event. Deleting an event breaks the chain only
 * until someone rewrites the chain; and a rewrite is caught only from the next
 * checkpoint on. The rows an audited action leaves behind (a decision, an
 * export record, a revoked grant, a sign-off) stay in their own tables, so an
 * event missing for one of them is found at once. Set-based: one anti-join per
 * kind, however large the log.
 */
export interface CrossCheckFinding {
  kind: "decision" | "export" | "grant" | "sign_off";
  id: string;
  message: string;
}

/** At most this many findings per kind are listed (the count says how many there are). */
const LIST_LIMIT = 20;

export async function crossCheckAuditEvents(client: PrismaClient): Promise<CrossCheckFinding[]> {
  const out: CrossCheckFinding[] = [];

  // Every decision (applied, awaiting confirmation or discarded) was written with an event naming its id.
  const decisions = await client.$queryRaw<{ id: string; kind: string; createdAt: Date; total: bigint }[]>`
    SELECT d.id::text AS id, d.kind::text AS kind, d."createdAt", count(*) OVER () AS total
    FROM "Decision" d
    WHERE NOT EXISTS (
      SELECT 1 FROM "AuditEvent" e
      WHERE (e.action LIKE 'decision.%' OR e.action LIKE 'campaign.%') AND e.data->>'decisionId' = d.id::text)
    ORDER BY d."createdAt" LIMIT ${LIST_LIMIT}`;
  for (const d of decisions)
    out.push({ kind: "decision", id: d.id, message: `decision ${d.id} (${d.kind}, ${d.createdAt.toISOString()}) has no audit event (${d.total} such decisions): its event was deleted` });

  // Every export record has its start event, and a finished one its end event.
  const exports = await client.$queryRaw<{ id: string; status: string; missing: string; total: bigint }[]>`
    SELECT x.id::text AS id, x.status::text AS status, m.missing, count(*) OVER () AS total
    FROM "ReportExport" x
    CROSS JOIN LATERAL (
      SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM "AuditEvent" e WHERE e.action = 'report.export_started' AND e.target = 'report_export:' || x.id::text)
          THEN 'report.export_started'
        WHEN x.status <> 'running' AND NOT EXISTS (
          SELECT 1 FROM "AuditEvent" e WHERE e.action IN ('report.export_completed', 'report.export_failed') AND e.target = 'report_export:' || x.id::text)
          THEN 'report.export_' || CASE WHEN x.status = 'completed' THEN 'completed' ELSE 'failed' END
      END AS missing) m
    WHERE m.missing IS NOT NULL
    ORDER BY x."startedAt" LIMIT ${LIST_LIMIT}`;
  for (const x of exports)
    out.push({ kind: "export", id: x.id, message: `export ${x.id} (${x.status}) has no ${x.missing} audit event (${x.total} such exports): its event was deleted` });

  // Every grant revoked while the log was being kept is named by an event
  // (decisions list revokedGrantIds; a grant-level event names it as grantId or target).
  const grants = await client.$queryRaw<{ id: string; revokedAt: Date; total: bigint }[]>`
    -- "Since the log began": the earliest trace of audited activity anywhere, so deleting the oldest events does not shrink the window.
    WITH since AS (SELECT LEAST(
      (SELECT min(at) FROM "AuditEvent"), (SELECT min(at) FROM "AuditCheckpoint"),
      (SELECT min("createdAt") FROM "Decision"), (SELECT min("startedAt") FROM "ReportExport"))
      -- revokedAt is the app's clock, createdAt the database's: allow for skew between them.
      - interval '1 minute' AS at),
    named AS (
      SELECT DISTINCT g.id FROM "AuditEvent" e
      CROSS JOIN LATERAL (
        SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.data->'revokedGrantIds') = 'array' THEN e.data->'revokedGrantIds' ELSE '[]'::jsonb END) AS id
        UNION ALL SELECT e.data->>'grantId'
        UNION ALL SELECT substr(e.target, 7) WHERE e.target LIKE 'grant:%') g
      WHERE e.action LIKE 'decision.%' OR e.action LIKE 'campaign.%' OR e.action LIKE 'grant.%' OR e.action LIKE 'scim.%')
    SELECT g.id::text AS id, g."revokedAt", count(*) OVER () AS total
    FROM "Grant" g, since
    WHERE g.status = 'revoked' AND g."revokedAt" >= since.at
      AND NOT EXISTS (SELECT 1 FROM named WHERE named.id = g.id::text)
    ORDER BY g."revokedAt" LIMIT ${LIST_LIMIT}`;
  for (const g of grants)
    out.push({ kind: "grant", id: g.id, message: `grant ${g.id} was revoked at ${g.revokedAt.toISOString()} but no audit event names it (${g.total} such grants): its event was deleted` });

  // Every sign-off has its campaign.sign_off event with the same digest.
  const signOffs = await client.$queryRaw<{ id: string; campaignId: string; total: bigint }[]>`
    SELECT s.id::text AS id, s."campaignId"::text AS "campaignId", count(*) OVER () AS total
    FROM "CampaignSignOff" s
    WHERE NOT EXISTS (
      SELECT 1 FROM "AuditEvent" e
      WHERE e.action = 'campaign.sign_off' AND e.target = 'campaign:' || s."campaignId"::text AND e.data->>'itemsSha256' = s."itemsSha256")
    ORDER BY s."signedAt" LIMIT ${LIST_LIMIT}`;
  for (const s of signOffs)
    out.push({ kind: "sign_off", id: s.id, message: `sign-off ${s.id} of campaign ${s.campaignId} has no campaign.sign_off audit event (${s.total} such sign-offs): its event was deleted` });

  return out;
}
