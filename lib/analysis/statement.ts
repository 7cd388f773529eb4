import type { RuleDefinition } from "./rules";

/**
 * The SQL of one analysis step. Every statement is sent with the same five
 * parameters ($1 now, $2 environment params as jsonb, $3 grace days, $4
 * credential rotation days, $5 principal filter or null); PARAMS names all five
 * with their types, because Postgres refuses a parameter whose type it cannot infer.
 */
const PARAMS = `WITH _params AS (SELECT $1::timestamptz AS now, $2::jsonb AS envs, $3::int AS grace_days, $4::int AS rotation_days, $5::uuid AS principal_id)`;

const sql = (body: string) => `${PARAMS}\n${body}`;

/**
 * Scratch tables of one run, temporary (never written to the WAL) and dropped at
 * the end of the step's transaction. Each is ANALYZEd after it is filled: the
 * planner then joins them by hash with the right sizes (with CTEs it guessed a
 * few rows and chose nested loops, quadratic in the number of findings).
 */
export const SCRATCH = {
  create: [
    `DROP TABLE IF EXISTS pg_temp.envp, pg_temp.analysis_unused, pg_temp.analysis_bundle_use, pg_temp.analysis_cand`,
    // used_since / judge_before: the window's cut-offs, computed once per environment
    // (date arithmetic on every grant's timestamp cost more than the scan itself).
    `CREATE TEMP TABLE envp (id uuid PRIMARY KEY, window_days int NOT NULL, held_back boolean NOT NULL,
       used_since timestamptz NOT NULL, judge_before timestamptz NOT NULL) ON COMMIT DROP`,
    sql(`INSERT INTO envp
  SELECT x.id, x.window_days, x.held_back,
    $1::timestamptz - make_interval(days => x.window_days), $1::timestamptz - make_interval(days => x.window_days + $3::int)
  FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, window_days int, held_back boolean)`),
    `ANALYZE envp`,
    // Keyed by grant (one candidate per grant and rule): the joins with "Finding" probe this key
    // whatever the planner believes about "Finding" (never analysed on a fresh database, it looked
    // empty, and the close step scanned every candidate per finding: 220 s at 35,000 findings).
    `CREATE TEMP TABLE analysis_cand (grant_id uuid PRIMARY KEY, api_id uuid NOT NULL, environment_id uuid NOT NULL,
       risk int NOT NULL, evidence jsonb NOT NULL, suggestion text NOT NULL) ON COMMIT DROP`,
  ],
  drop: `DROP TABLE IF EXISTS pg_temp.envp, pg_temp.analysis_unused, pg_temp.analysis_bundle_use, pg_temp.analysis_cand`,
};

/**
 * The usage pass shared by dormant, never_used and over_privileged: one scan of
 * the active grants that keeps those old enough to judge (window + grace) and
 * unused in their environment's window, and, for the (principal, API,
 * environment) bundles among them, the scopes that were used in the window.
 */
export const USAGE_PASS = [
  `CREATE TEMP TABLE analysis_unused (id uuid NOT NULL, "principalId" uuid NOT NULL, "scopeId" uuid NOT NULL, "apiId" uuid NOT NULL,
     "environmentId" uuid NOT NULL, "grantedAt" timestamptz NOT NULL, "lastUsedAt" timestamptz, "expiresAt" timestamptz,
     used_since timestamptz NOT NULL) ON COMMIT DROP`,
  // One scan of Grant, hash-joined with the few environments: judgeable (granted before
  // window + grace) and not used since the window began.
  sql(`INSERT INTO analysis_unused
  SELECT g.id, g."principalId", g."scopeId", s."apiId", g."environmentId", g."grantedAt", g."lastUsedAt", g."expiresAt", envp.used_since
  FROM "Grant" g JOIN "Scope" s ON s.id = g."scopeId" JOIN envp ON envp.id = g."environmentId"
  WHERE g.status = 'active' AND NOT envp.held_back AND ($5::uuid IS NULL OR g."principalId" = $5::uuid)
    AND g."grantedAt" <= envp.judge_before AND (g."lastUsedAt" IS NULL OR g."lastUsedAt" < envp.used_since)`),
  `ANALYZE analysis_unused`,
  `CREATE TEMP TABLE analysis_bundle_use (principal_id uuid NOT NULL, api_id uuid NOT NULL, environment_id uuid NOT NULL,
     used_names text[] NOT NULL, used_scope_ids uuid[] NOT NULL) ON COMMIT DROP`,
  // Only bundles holding an unused grant can make one over-privileged: joining their keys
  // keeps the grouping to those (a hash of a few ten thousand keys probed by one scan of
  // Grant). The cut-off comes with the keys rather than from envp: joined with envp the
  // planner guessed a handful of keys and probed Grant's unique index per key and scope
  // instead (measured 2.1 s against 0.x s at 1,000,000 grants).
  sql(`INSERT INTO analysis_bundle_use
  SELECT g."principalId", s."apiId", g."environmentId", array_agg(s.name ORDER BY s.name), array_agg(s.id ORDER BY s.name)
  FROM "Grant" g JOIN "Scope" s ON s.id = g."scopeId"
  JOIN (SELECT DISTINCT "principalId", "apiId", "environmentId", used_since FROM analysis_unused) b
    ON b."principalId" = g."principalId" AND b."apiId" = s."apiId" AND b."environmentId" = g."environmentId"
  WHERE g.status = 'active' AND ($5::uuid IS NULL OR g."principalId" = $5::uuid) AND g."lastUsedAt" >= b.used_since
  GROUP BY 1, 2, 3`),
  `ANALYZE analysis_bundle_use`,
];

const SEVERITY = `(CASE WHEN c.risk >= 80 THEN 'critical' WHEN c.risk >= 60 THEN 'high' WHEN c.risk >= 40 THEN 'medium' ELSE 'low' END)::"Severity"`;

/**
 * One rule's step: compute its candidates into analysis_cand, then compare them
 * with the rule's open findings and write only the difference — rewrite the
 * findings whose severity, score, evidence or suggestion changed, open the
 * missing ones, close those whose grant is no longer a candidate. A re-run on
 * unchanged data writes nothing and touches no finding. Usage-based findings in
 * a held-back environment are neither opened nor closed: the feed cannot tell
 * either way. A grant approved for this rule is not re-flagged until its re-review date.
 */
export function ruleStatements(def: RuleDefinition) {
  const rule = `'${def.rule}'::"FindingRule"`;
  const judgedForClose = def.usageBased
    ? `(g.status <> 'active' OR NOT EXISTS (SELECT 1 FROM envp WHERE envp.id = g."environmentId" AND envp.held_back))`
    : "true";
  return {
    candidates: [
      `TRUNCATE analysis_cand`,
      sql(`INSERT INTO analysis_cand (grant_id, api_id, environment_id, risk, evidence, suggestion)
  SELECT c.grant_id, c.api_id, c.environment_id, c.risk, c.evidence, c.suggestion FROM (${def.candidates}) c`),
      `ANALYZE analysis_cand`,
    ],
    update: sql(`UPDATE "Finding" f
  SET severity = ${SEVERITY}, "riskScore" = c.risk, evidence = c.evidence, suggestion = c.suggestion,
      "apiId" = c.api_id, "environmentId" = c.environment_id
  FROM analysis_cand c
  WHERE f."grantId" = c.grant_id AND f.rule = ${rule} AND f.status = 'open'
    AND (f.severity, f."riskScore", f.evidence, f.suggestion, f."apiId", f."environmentId")
      IS DISTINCT FROM (${SEVERITY}, c.risk, c.evidence, c.suggestion, c.api_id, c.environment_id)`),
    // ON CONFLICT only guards against a concurrent writer of the same finding
    // (analyzePrincipal during a scheduled run); the NOT EXISTS does the work.
    insert: sql(`INSERT INTO "Finding" (id, "grantId", rule, severity, "riskScore", evidence, suggestion, status, "openedAt", "apiId", "environmentId")
  SELECT gen_random_uuid(), c.grant_id, ${rule}, ${SEVERITY}, c.risk, c.evidence, c.suggestion, 'open', $1::timestamptz, c.api_id, c.environment_id
  FROM analysis_cand c
  WHERE NOT EXISTS (
    SELECT 1 FROM "Finding" f
    WHERE f."grantId" = c.grant_id AND f.rule = ${rule}
      AND (f.status = 'open' OR (f.status = 'approved' AND (f."reReviewAt" IS NULL OR f."reReviewAt" > $1::timestamptz))))
  ON CONFLICT ("grantId", rule) WHERE status = 'open' DO NOTHING`),
    // The grant is looked up (LATERAL: by its key) only for open findings that are no
    // longer candidates, so a re-run on unchanged data reads no grant at all.
    close: sql(`UPDATE "Finding" f
  SET status = 'closed', "closedAt" = $1::timestamptz,
      "closedReason" = CASE WHEN gone.status <> 'active' THEN 'Grant is no longer active (' || gone.status || ')'
                            ELSE 'Condition no longer holds' END
  FROM (
    SELECT f0.id, g.status
    FROM "Finding" f0
    CROSS JOIN LATERAL (SELECT g.status, g."environmentId", g."principalId" FROM "Grant" g WHERE g.id = f0."grantId") g
    WHERE f0.rule = ${rule} AND f0.status = 'open'
      AND NOT EXISTS (SELECT 1 FROM analysis_cand c WHERE c.grant_id = f0."grantId")
      AND ($5::uuid IS NULL OR g."principalId" = $5::uuid)
      AND ${judgedForClose}
  ) gone
  WHERE f.id = gone.id`),
  };
}
