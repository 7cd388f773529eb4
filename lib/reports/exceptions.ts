import { z } from "zod";
import { optionalName } from "./filters";
import { iso } from "./cursor";
import { countedSummary } from "./sql";
import { GRANT_JOINS, grantColumns } from "./columns";
import type { ReportDefinition } from "./types";

/**
 * Exceptions register: risky access that someone accountable decided to keep,
 * while the grant is still active — findings approved in the review queue (with
 * the approver's justification and the date by which it must be looked at again)
 * and campaign items kept although they had open findings.
 * Only current exceptions are listed: a grant revoked since is no longer one.
 */
const filters = z
  .object({ environment: optionalName, team: optionalName, overdueOnly: z.enum(["true", "false"]).optional() })
  .strict();
type Filters = z.infer<typeof filters>;

/** Both kinds of exception as one row shape, so filters, order and counts apply to the union. */
const EXCEPTIONS = `
  SELECT 'review queue' AS source, f.id AS "findingId", NULL::uuid AS "campaignItemId", NULL::text AS campaign,
         f.rule::text AS rule, f.severity::text AS severity, f."riskScore" AS "riskScore",
         g.id AS "grantId", p."displayName" AS principal, p.kind::text AS "principalKind", t.name AS team,
         a.name AS api, s.name AS scope, e.name AS environment,
         ad.id AS "decisionId", du.email AS "approvedBy", cu.email AS "confirmedBy",
         coalesce(ad."createdAt", f."closedAt") AS "approvedAt", ad.justification, f."reReviewAt"
  FROM "Finding" f
  JOIN "Grant" g ON g.id = f."grantId"
  ${GRANT_JOINS}
  LEFT JOIN LATERAL (
    SELECT d.id, d.justification, d."createdAt", d."deciderId", d."confirmerId"
    FROM "Decision" d
    WHERE d."findingId" = f.id AND d.kind = 'approve' AND NOT d."awaitingConfirmation"
    ORDER BY d."createdAt" DESC LIMIT 1
  ) ad ON true
  LEFT JOIN "User" du ON du.id = ad."deciderId"
  LEFT JOIN "User" cu ON cu.id = ad."confirmerId"
  WHERE f.status = 'approved' AND g.status = 'active'
  UNION ALL
  -- Campaign keeps of items that had open findings at launch, and items kept and
  -- flagged by the close policy because nobody answered.
  SELECT CASE WHEN ci."closedByPolicy" THEN 'campaign close (flagged)' ELSE 'campaign keep' END,
         NULL::uuid, ci.id, c.name || ' (' || c.period || ')',
         (SELECT string_agg(DISTINCT x->>'rule', ' ') FROM jsonb_array_elements(ci."openFindings") x),
         (SELECT x->>'severity' FROM jsonb_array_elements(ci."openFindings") x ORDER BY (x->>'riskScore')::int DESC NULLS LAST LIMIT 1),
         (SELECT max((x->>'riskScore')::int) FROM jsonb_array_elements(ci."openFindings") x),
         ci."grantId", ci."principalName", ci."principalKind"::text, ci."teamName",
         ci."apiName", ci."scopeName", ci."environmentName",
         NULL::uuid, du.email, cu.email, ci."decidedAt", ci.justification, NULL::timestamptz
  FROM "CampaignItem" ci
  JOIN "Campaign" c ON c.id = ci."campaignId"
  JOIN "Grant" g ON g.id = ci."grantId"
  LEFT JOIN "User" du ON du.id = ci."decidedById"
  LEFT JOIN "User" cu ON cu.id = ci."confirmedById"
  WHERE g.status = 'active'
    AND ((ci.decision = 'keep' AND ci."openFindingCount" > 0) OR ci.flagged)`;

const FROM = `
  FROM (${EXCEPTIONS}) x
  WHERE ($1::text IS NULL OR x.environment = $1)
    AND ($2::text IS NULL OR x.team = $2)
    AND (NOT $3::boolean OR x."reReviewAt" < now())`;

const params = (f: Filters) => [f.environment ?? null, f.team ?? null, f.overdueOnly === "true"];

export const exceptionsReport: ReportDefinition<Filters> = {
  name: "exceptions",
  title: "Exceptions register",
  description: "Risky grants kept on purpose: approved findings and campaign keeps with open findings, on grants still active.",
  filters,
  fields: [
    { name: "environment", label: "Environment", kind: "environment" },
    { name: "team", label: "Team", kind: "team" },
    { name: "overdueOnly", label: "Only re-reviews overdue", kind: "flag" },
  ],
  columns: [
    { key: "source", header: "Source" },
    { key: "findingId", header: "Finding id" },
    { key: "campaignItemId", header: "Campaign item id" },
    { key: "campaign", header: "Campaign" },
    { key: "rule", header: "Finding rule" },
    { key: "severity", header: "Severity" },
    { key: "riskScore", header: "Risk score" },
    { key: "grantId", header: "Grant id" },
    ...grantColumns(),
    { key: "decisionId", header: "Decision id" },
    { key: "approvedBy", header: "Approved by" },
    { key: "confirmedBy", header: "Confirmed by" },
    { key: "approvedAt", header: "Approved at" },
    { key: "justification", header: "Justification" },
    { key: "reReviewAt", header: "Re-review by" },
    { key: "reReviewOverdue", header: "Re-review overdue" },
  ],
  query: (f) => ({
    text: `SELECT x.source, x."findingId", x."campaignItemId", x.campaign, x.rule, x.severity, x."riskScore",
              x."grantId", x.principal, x."principalKind", x.team, x.api, x.scope, x.environment,
              x."decisionId", x."approvedBy", x."confirmedBy", ${iso(`x."approvedAt"`)} AS "approvedAt", x.justification,
              ${iso(`x."reReviewAt"`)} AS "reReviewAt", coalesce(x."reReviewAt" < now(), false) AS "reReviewOverdue"
       ${FROM}
       ORDER BY x."reReviewAt" ASC NULLS LAST, x."approvedAt", x."grantId"`,
    values: params(f),
  }),
  summary: (client, f) =>
    countedSummary(client, FROM, params(f), {
      rows: "Exceptions (risky grants kept)",
      where: [["Re-review overdue", `x."reReviewAt" < now()`]],
      breakdowns: [
        { title: "Exceptions by source", by: "x.source" },
        { title: "Exceptions by rule", by: "coalesce(x.rule, '(none)')" },
        { title: "Exceptions by team", by: "coalesce(x.team, '(no team)')" },
        { title: "Exceptions by approver", by: "coalesce(x.\"approvedBy\", '(close policy)')" },
      ],
    }),
};
