import { PERIOD_FIELDS, periodFilters, periodParams, periodTotal, type PeriodFilters } from "./filters";
import { iso } from "./cursor";
import { countedSummary } from "./sql";
import { GRANT_JOINS, grantColumns, proxyRevisions } from "./columns";
import type { ReportDefinition } from "./types";

/**
 * Revocations log: every revoke or reduce decision, from the review queue, a
 * campaign, a remediation policy ("by policy") or an import source's automatic rollback, with who decided, who confirmed it under the two-person rule, the
 * justification, and the enforcement proof (applied at, verified removed at, and
 * the revision each proxy acknowledged).
 */
const FROM = `
  FROM "Decision" d
  JOIN "Grant" g ON g.id = d."grantId"
  ${GRANT_JOINS}
  LEFT JOIN "Finding" f ON f.id = d."findingId"
  JOIN "User" du ON du.id = d."deciderId"
  LEFT JOIN "User" cu ON cu.id = d."confirmerId"
  WHERE d.kind IN ('revoke', 'reduce')
    -- A rejected or superseded proposal revoked nothing.
    AND d.discard IS NULL
    AND ($1::timestamptz IS NULL OR d."createdAt" >= $1::timestamptz)
    AND ($2::timestamptz IS NULL OR d."createdAt" < $2::timestamptz)
    AND ($3::text IS NULL OR e.name = $3)`;

/** Each proxy's acknowledged revision for the decision d (the campaign report uses it too). */
export const PROXY_REVISIONS = proxyRevisions(`o."decisionId" = d.id`);

export const revocationsReport: ReportDefinition<PeriodFilters> = {
  name: "revocations",
  title: "Revocations log",
  description: "Every revoke and reduce decision (review queue and campaigns) with its enforcement proof.",
  filters: periodFilters,
  fields: PERIOD_FIELDS,
  columns: [
    { key: "decisionId", header: "Decision id" },
    { key: "kind", header: "Decision" },
    { key: "source", header: "Source" },
    { key: "findingId", header: "Finding id" },
    { key: "rule", header: "Finding rule" },
    { key: "campaignItemId", header: "Campaign item id" },
    { key: "grantId", header: "Grant id" },
    ...grantColumns(),
    { key: "keptScopeIds", header: "Kept scope ids (reduce)" },
    { key: "decider", header: "Decided by" },
    { key: "decidedAt", header: "Decided at" },
    { key: "confirmer", header: "Confirmed by (two-person rule)" },
    { key: "awaitingConfirmation", header: "Awaiting confirmation" },
    { key: "justification", header: "Justification" },
    { key: "enforcement", header: "Enforcement" },
    { key: "enforcedAt", header: "Enforced at" },
    { key: "verifiedRemovedAt", header: "Verified removed at" },
    { key: "proxyRevisions", header: "Proxy revisions" },
  ],
  query: (f) => ({
    text: `SELECT d.id AS "decisionId", d.kind::text AS kind,
              -- Issue 22: automation signs with the admin who enabled it; the source says it was not a reviewer's click.
              CASE WHEN d.automation = 'policy' THEN 'by policy' WHEN d.automation = 'import_rollback' THEN 'import rollback'
                   WHEN d."campaignItemId" IS NOT NULL THEN 'campaign' ELSE 'queue' END AS source,
              d."findingId" AS "findingId", f.rule::text AS rule, d."campaignItemId" AS "campaignItemId",
              g.id AS "grantId", p."displayName" AS principal, p.kind::text AS "principalKind", t.name AS team,
              a.name AS api, s.name AS scope, e.name AS environment,
              array_to_string(d."keptScopeIds", ' ') AS "keptScopeIds",
              du.email AS decider, ${iso(`d."createdAt"`)} AS "decidedAt", cu.email AS confirmer,
              d."awaitingConfirmation" AS "awaitingConfirmation", d.justification,
              d.enforcement::text AS enforcement, ${iso(`d."enforcedAt"`)} AS "enforcedAt",
              ${iso(`d."verifiedRemovedAt"`)} AS "verifiedRemovedAt", ${PROXY_REVISIONS} AS "proxyRevisions"
       ${FROM}
       ORDER BY d."createdAt", d.id`,
    values: periodParams(f),
  }),
  summary: (client, f) =>
    countedSummary(client, FROM, periodParams(f), {
      context: [periodTotal(f)],
      rows: "Revoke and reduce decisions",
      where: [["Verified removed at the proxy", `d."verifiedRemovedAt" IS NOT NULL`]],
      breakdowns: [
        { title: "Decisions by type", by: "d.kind::text" },
        { title: "Decisions by source", by: `CASE WHEN d.automation = 'policy' THEN 'by policy' WHEN d.automation = 'import_rollback' THEN 'import rollback' WHEN d."campaignItemId" IS NOT NULL THEN 'campaign' ELSE 'queue' END` },
        { title: "Decisions by enforcement state", by: "d.enforcement::text" },
        { title: "Decisions by team", by: "coalesce(t.name, '(no team)')" },
        { title: "Decisions by reviewer", by: "du.email" },
      ],
    }),
};
