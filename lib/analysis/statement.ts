import type { RuleDefinition } from "./rules";

/**
 * One statement per rule: upsert the open finding of every candidate grant
 * (rewriting it only when severity, score, evidence or suggestion changed, so a
 * re-run on unchanged data writes nothing) and close every open finding of the
 * rule whose grant is no longer a candidate. Usage-based findings in a held-back
 * environment are neither opened nor closed: the feed cannot tell either way.
 * A grant approved for this rule is not re-flagged until its re-review date.
 */
export function ruleStatement(def: RuleDefinition): string {
  const rule = `'${def.rule}'::"FindingRule"`;
  const judgedForClose = def.usageBased
    ? `(g.status <> 'active' OR NOT EXISTS (SELECT 1 FROM envp WHERE envp.id = g."environmentId" AND envp.held_back))`
    : "true";
  return `
WITH envp AS (
  -- $3 and $4 are named here so every statement declares all five parameter types
  SELECT x.*, $3::int AS grace_days, $4::int AS rotation_days
  FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, window_days int, held_back boolean)
),
cand AS MATERIALIZED (${def.candidates}),
upserted AS (
  INSERT INTO "Finding" (id, "grantId", rule, severity, "riskScore", evidence, suggestion, status, "openedAt")
  SELECT gen_random_uuid(), c.grant_id, ${rule},
    (CASE WHEN c.risk >= 80 THEN 'critical' WHEN c.risk >= 60 THEN 'high' WHEN c.risk >= 40 THEN 'medium' ELSE 'low' END)::"Severity",
    c.risk, c.evidence, c.suggestion, 'open', $1::timestamptz
  FROM cand c
  WHERE NOT EXISTS (
    SELECT 1 FROM "Finding" ap
    WHERE ap."grantId" = c.grant_id AND ap.rule = ${rule} AND ap.status = 'approved'
      AND (ap."reReviewAt" IS NULL OR ap."reReviewAt" > $1::timestamptz))
  ON CONFLICT ("grantId", rule) WHERE status = 'open' DO UPDATE
    SET severity = EXCLUDED.severity, "riskScore" = EXCLUDED."riskScore",
        evidence = EXCLUDED.evidence, suggestion = EXCLUDED.suggestion
    WHERE ("Finding".severity, "Finding"."riskScore", "Finding".evidence, "Finding".suggestion)
      IS DISTINCT FROM (EXCLUDED.severity, EXCLUDED."riskScore", EXCLUDED.evidence, EXCLUDED.suggestion)
  RETURNING (xmax = 0) AS inserted
),
closed AS (
  UPDATE "Finding" f
  SET status = 'closed', "closedAt" = $1::timestamptz,
      "closedReason" = CASE WHEN g.status <> 'active' THEN 'Grant is no longer active (' || g.status || ')'
                            ELSE 'Condition no longer holds' END
  FROM "Grant" g
  WHERE g.id = f."grantId" AND f.rule = ${rule} AND f.status = 'open'
    AND ($5::uuid IS NULL OR g."principalId" = $5::uuid)
    AND NOT EXISTS (SELECT 1 FROM cand c WHERE c.grant_id = f."grantId")
    AND ${judgedForClose}
  RETURNING 1
)
SELECT
  (SELECT count(*) FROM cand)::int AS candidates,
  (SELECT count(*) FROM upserted WHERE inserted)::int AS opened,
  (SELECT count(*) FROM upserted WHERE NOT inserted)::int AS updated,
  (SELECT count(*) FROM closed)::int AS closed`;
}
