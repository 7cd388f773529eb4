import { z } from "zod";
import { dayRange, fromBeforeTo, optionalDay, optionalName } from "./filters";
import { iso } from "./cursor";
import { countBy, countRows } from "./sql";
import { GRANT_JOINS, grantColumns } from "./columns";
import type { ReportDefinition } from "./types";

/**
 * Access granted: the counterpart of the revocations log. One row per grant an
 * approved access request created (lib/access/requests.ts): who asked, who
 * approved, the reason and duration, when the access started at the proxy (the
 * grant change's acknowledgement) and when it ended (the grant's end, which the
 * proxy enforces by itself), and when the dashboard marked it expired.
 */
const filters = z
  .object({ from: optionalDay, to: optionalDay, environment: optionalName })
  .strict()
  .refine(fromBeforeTo, { message: "must not be before from", path: ["to"] });
type Filters = z.infer<typeof filters>;

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

function params(f: Filters): unknown[] {
  const r = dayRange(f.from, f.to);
  return [r.from?.toISOString() ?? null, r.to?.toISOString() ?? null, f.environment ?? null];
}

const APPROVERS = `(SELECT string_agg(u.email, ' ' ORDER BY u.email) FROM "User" u WHERE u.id = ANY(r."approverIds"))`;
const PROXY_REVISIONS = `(
  SELECT string_agg(px.name || '@' || coalesce(o."appliedRevision"::text, o.status::text), '; ' ORDER BY px.name)
  FROM "OutboxItem" o JOIN "Proxy" px ON px.id = o."proxyId" WHERE o."accessChangeId" = c.id)`;

export const accessGrantedReport: ReportDefinition<Filters> = {
  name: "access-granted",
  title: "Access granted",
  description: "Every grant created by an approved access request: requester, approvers, reason, duration, start and end at the proxy.",
  filters,
  fields: [
    { name: "from", label: "From (UTC day)", kind: "day" },
    { name: "to", label: "To (UTC day, inclusive)", kind: "day" },
    { name: "environment", label: "Environment", kind: "environment" },
  ],
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
    values: params(f),
  }),
  async summary(client, f) {
    const p = params(f);
    const [total, byEnv, byTeam, byEnforcement, expired] = await Promise.all([
      countRows(client, FROM, p),
      countBy(client, "e.name", FROM, p),
      countBy(client, "coalesce(t.name, '(no team)')", FROM, p),
      countBy(client, "coalesce(c.enforcement::text, 'none')", FROM, p),
      countRows(client, `${FROM} AND g.status = 'expired'`, p),
    ]);
    return {
      rowCount: total,
      totals: [
        ["Period", `${f.from ?? "beginning"} to ${f.to ?? "today"}`],
        ["Grants from approved requests", total],
        ["Ended and marked expired", expired],
      ],
      breakdowns: [
        { title: "By environment", rows: byEnv },
        { title: "By team", rows: byTeam },
        { title: "By enforcement state", rows: byEnforcement },
      ],
    };
  },
};
