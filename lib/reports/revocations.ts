import { z } from "zod";
import { dayRange, fromBeforeTo, optionalDay, optionalName } from "./filters";
import { iso } from "./cursor";
import { countBy, countRows } from "./sql";
import { GRANT_JOINS, grantColumns } from "./columns";
import type { ReportDefinition } from "./types";

/**
 * Revocations log: every revoke or reduce decision, from the review queue or a
 * campaign, with who decided, who confirmed it under the two-person rule, the
 * justification, and the enforcement proof (applied at, verified removed at, and
 * the revision each proxy acknowledged).
 */
const filters = z
  .object({ from: optionalDay, to: optionalDay, environment: optionalName })
  .strict()
  .refine(fromBeforeTo, { message: "must not be before from", path: ["to"] });
type Filters = z.infer<typeof filters>;

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

function params(f: Filters): unknown[] {
  const r = dayRange(f.from, f.to);
  return [r.from?.toISOString() ?? null, r.to?.toISOString() ?? null, f.environment ?? null];
}

/** "edge-1@42; edge-2@pending": one entry per proxy the decision was sent to. */
export const PROXY_REVISIONS = `(
  SELECT string_agg(px.name || '@' || coalesce(o."appliedRevision"::text, o.status::text), '; ' ORDER BY px.name)
  FROM "OutboxItem" o JOIN "Proxy" px ON px.id = o."proxyId" WHERE o."decisionId" = d.id)`;

export const revocationsReport: ReportDefinition<Filters> = {
  name: "revocations",
  title: "Revocations log",
  description: "Every revoke and reduce decision (review queue and campaigns) with its enforcement proof.",
  filters,
  fields: [
    { name: "from", label: "From (UTC day)", kind: "day" },
    { name: "to", label: "To (UTC day, inclusive)", kind: "day" },
    { name: "environment", label: "Environment", kind: "environment" },
  ],
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
              CASE WHEN d."campaignItemId" IS NOT NULL THEN 'campaign' ELSE 'queue' END AS source,
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
    values: params(f),
  }),
  async summary(client, f) {
    const p = params(f);
    const [total, byKind, byEnforcement, byTeam, byDecider, verified] = await Promise.all([
      countRows(client, FROM, p),
      countBy(client, "d.kind::text", FROM, p),
      countBy(client, "d.enforcement::text", FROM, p),
      countBy(client, "coalesce(t.name, '(no team)')", FROM, p),
      countBy(client, "du.email", FROM, p),
      countRows(client, `${FROM} AND d."verifiedRemovedAt" IS NOT NULL`, p),
    ]);
    return {
      rowCount: total,
      totals: [
        ["Period", `${f.from ?? "beginning"} to ${f.to ?? "today"}`],
        ["Revoke and reduce decisions", total],
        ["Verified removed at the proxy", verified],
      ],
      breakdowns: [
        { title: "Decisions by type", rows: byKind },
        { title: "Decisions by enforcement state", rows: byEnforcement },
        { title: "Decisions by team", rows: byTeam },
        { title: "Decisions by reviewer", rows: byDecider },
      ],
    };
  },
};
