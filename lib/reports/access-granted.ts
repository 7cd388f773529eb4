import { PERIOD_FIELDS, periodFilters, periodParams, periodTotal, type PeriodFilters } from "./filters";
import { iso } from "./cursor";
import { countedSummary } from "./sql";
import { GRANT_JOINS, grantColumns, proxyRevisions } from "./columns";
import type { ReportDefinition } from "./types";

/**
 * Access granted: the counterpart of the revocations log. One row per grant an
 * approved access request created (lib/access/requests.ts): who asked, who
 * approved, the reason and duration, when the access started at the proxy (the
 * grant change's acknowledgement) and when it ended (the grant's end, which the
 * proxy enforces by itself), and when the dashboard marked it expired.
 */
const FROM = `
  FROM "AccessRequest" r
  JOIN "Grant" g ON g.id = ANY(r."grantIds")
  ${GRANT_JOINS}
  JOIN "User" ru ON ru.id = r."requesterId"
  LEFT JOIN "AccessChange" c ON c.id = r."accessChangeId"
  WHERE r.status = 'approved'
    AND ($1::timestamptz IS NULL OR r."decidedAt" >= $1::timestamptz)
    AND ($2::timestamptz IS NULL OR r."decidedAt" < $2::timestamptz)
    AND ($3::text IS NULL OR e.name = $3)`;

const APPROVERS = `(SELECT string_agg(u.email, ' ' ORDER BY u.email) FROM "User" u WHERE u.id = ANY(r."approverIds"))`;
const PROXY_REVISIONS = proxyRevisions(`o."accessChangeId" = c.id`);

export const accessGrantedReport: ReportDefinition<PeriodFilters> = {
  name: "access-granted",
  title: "Access granted",
  description: "Every grant created by an approved access request: requester, approvers, reason, duration, start and end at the proxy.",
  filters: periodFilters,
  fields: PERIOD_FIELDS,
  columns: [
    { key: "requestId", header: "Request id" },
    { key: "grantId", header: "Grant id" },
    ...grantColumns(),
    { key: "requester", header: "Requested by" },
    { key: "requestedAt", header: "Requested at" },
    { key: "reason", header: "Reason" },
    { key: "duration", header: "Duration asked" },
    { key: "approvers", header: "Approved by" },
    { key: "approvedAt", header: "Approved at" },
    { key: "enforcement", header: "Enforcement" },
    { key: "startedAtProxy", header: "Started at the proxy (acknowledged)" },
    { key: "endsAt", header: "Ends at (enforced by the proxy)" },
    { key: "grantStatus", header: "Grant status" },
    { key: "expiredMarkedAt", header: "Marked expired by the dashboard" },
    { key: "proxyRevisions", header: "Proxy revisions" },
  ],
  query: (f) => ({
    text: `SELECT r.id AS "requestId", g.id AS "grantId", p."displayName" AS principal, p.kind::text AS "principalKind", t.name AS team,
              a.name AS api, s.name AS scope, e.name AS environment,
              ru.email AS requester, ${iso(`r."createdAt"`)} AS "requestedAt", r.reason,
              CASE WHEN r."durationSeconds" IS NOT NULL THEN (r."durationSeconds" / 3600.0)::numeric(10,2)::text || ' h'
                   ELSE 'until ' || ${iso(`r.until`)} END AS duration,
              ${APPROVERS} AS approvers, ${iso(`r."decidedAt"`)} AS "approvedAt",
              c.enforcement::text AS enforcement, ${iso(`c."enforcedAt"`)} AS "startedAtProxy", ${iso(`r."grantEndsAt"`)} AS "endsAt",
              g.status::text AS "grantStatus", ${iso(`r."expiredMarkedAt"`)} AS "expiredMarkedAt", ${PROXY_REVISIONS} AS "proxyRevisions"
       ${FROM}
       ORDER BY r."decidedAt", r.id, g.id`,
    values: periodParams(f),
  }),
  summary: (client, f) =>
    countedSummary(client, FROM, periodParams(f), {
      context: [periodTotal(f)],
      rows: "Grants from approved requests",
      where: [["Ended and marked expired", `g.status = 'expired'`]],
      breakdowns: [
        { title: "By environment", by: "e.name" },
        { title: "By team", by: "coalesce(t.name, '(no team)')" },
        { title: "By enforcement state", by: "coalesce(c.enforcement::text, 'none')" },
      ],
    }),
};
