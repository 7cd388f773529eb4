import { z } from "zod";
import { optionalName } from "./filters";
import { cursorBatches, iso } from "./cursor";
import { countBy, countRows } from "./sql";
import type { ReportDefinition } from "./types";

/**
 * Exceptions register: risky access that someone accountable decided to keep,
 * while the grant is still active — findings approved in the review queue, with
 * the approver's justification and the date by which it must be looked at again.
 * Only current exceptions are listed: a grant revoked since is no longer one.
 */
const filters = z
  .object({ environment: optionalName, team: optionalName, overdueOnly: z.enum(["true", "false"]).optional() })
  .strict();
type Filters = z.infer<typeof filters>;

const FROM = `
  FROM "Finding" f
  JOIN "Grant" g ON g.id = f."grantId"
  JOIN "Principal" p ON p.id = g."principalId"
  JOIN "Scope" s ON s.id = g."scopeId"
  JOIN "Api" a ON a.id = s."apiId"
  JOIN "Environment" e ON e.id = g."environmentId"
  LEFT JOIN "Team" t ON t.id = p."teamId"
  LEFT JOIN LATERAL (
    SELECT d.id, d.justification, d."createdAt", d."deciderId", d."confirmerId"
    FROM "Decision" d
    WHERE d."findingId" = f.id AND d.kind = 'approve' AND NOT d."awaitingConfirmation"
    ORDER BY d."createdAt" DESC LIMIT 1
  ) ad ON true
  LEFT JOIN "User" du ON du.id = ad."deciderId"
  LEFT JOIN "User" cu ON cu.id = ad."confirmerId"
  WHERE f.status = 'approved' AND g.status = 'active'
    AND ($1::text IS NULL OR e.name = $1)
    AND ($2::text IS NULL OR t.name = $2)
    AND (NOT $3::boolean OR f."reReviewAt" < now())`;

const params = (f: Filters) => [f.environment ?? null, f.team ?? null, f.overdueOnly === "true"];

export const exceptionsReport: ReportDefinition<Filters> = {
  name: "exceptions",
  title: "Exceptions register",
  description: "Risky grants kept on purpose: approved findings on active grants, with justification and re-review date.",
  filters,
  columns: [
    { key: "source", header: "Source" },
    { key: "findingId", header: "Finding id" },
    { key: "rule", header: "Finding rule" },
    { key: "severity", header: "Severity" },
    { key: "riskScore", header: "Risk score" },
    { key: "grantId", header: "Grant id" },
    { key: "principal", header: "Principal" },
    { key: "principalKind", header: "Principal kind" },
    { key: "team", header: "Team" },
    { key: "api", header: "API" },
    { key: "scope", header: "Scope" },
    { key: "environment", header: "Environment" },
    { key: "decisionId", header: "Decision id" },
    { key: "approvedBy", header: "Approved by" },
    { key: "confirmedBy", header: "Confirmed by" },
    { key: "approvedAt", header: "Approved at" },
    { key: "justification", header: "Justification" },
    { key: "reReviewAt", header: "Re-review by" },
    { key: "reReviewOverdue", header: "Re-review overdue" },
  ],
  batches: ({ conn }, f) =>
    cursorBatches(
      conn,
      `SELECT 'review queue' AS source, f.id AS "findingId", f.rule::text AS rule, f.severity::text AS severity,
              f."riskScore" AS "riskScore", g.id AS "grantId", p."displayName" AS principal,
              p.kind::text AS "principalKind", t.name AS team, a.name AS api, s.name AS scope, e.name AS environment,
              ad.id AS "decisionId", du.email AS "approvedBy", cu.email AS "confirmedBy",
              ${iso(`coalesce(ad."createdAt", f."closedAt")`)} AS "approvedAt", ad.justification,
              ${iso(`f."reReviewAt"`)} AS "reReviewAt", coalesce(f."reReviewAt" < now(), false) AS "reReviewOverdue"
       ${FROM}
       ORDER BY f."reReviewAt" ASC NULLS LAST, f.id`,
      params(f),
    ),
  async summary(client, f) {
    const p = params(f);
    const [total, overdue, byRule, byTeam, byApprover] = await Promise.all([
      countRows(client, FROM, p),
      countRows(client, `${FROM} AND f."reReviewAt" < now()`, p),
      countBy(client, "f.rule::text", FROM, p),
      countBy(client, "coalesce(t.name, '(no team)')", FROM, p),
      countBy(client, "coalesce(du.email, '(unknown)')", FROM, p),
    ]);
    return {
      rowCount: total,
      totals: [
        ["Exceptions (risky grants kept)", total],
        ["Re-review overdue", overdue],
      ],
      breakdowns: [
        { title: "Exceptions by rule", rows: byRule },
        { title: "Exceptions by team", rows: byTeam },
        { title: "Exceptions by approver", rows: byApprover },
      ],
    };
  },
};
