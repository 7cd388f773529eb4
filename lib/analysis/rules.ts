import type { FindingRule } from "@/lib/generated/prisma/client";

/**
 * The analysis rules as set-based SQL. Each rule is one SELECT of candidate
 * grants (grant_id, risk, evidence, suggestion); `statement.ts` wraps it into
 * a single INSERT ... ON CONFLICT + close statement. Parameters every rule may use:
 *   $1 now (timestamptz)          $2 environment params (jsonb: id, window_days, held_back)
 *   $3 grace days                 $4 credential rotation days
 *   $5 principal filter (uuid, null = all principals)
 * Evidence holds facts (dates, names), never "N days ago", so a re-run on
 * unchanged data writes nothing.
 */
export interface RuleDefinition {
  rule: FindingRule;
  /** Usage-based rules are held back for environments with a stale usage feed. */
  usageBased: boolean;
  title: string;
  candidates: string;
}

// Joins shared by every rule; envp carries the per-environment window.
const BASE = `
  FROM "Grant" g
  JOIN "Scope" s ON s.id = g."scopeId"
  JOIN "Api" a ON a.id = s."apiId"
  JOIN "Environment" e ON e.id = g."environmentId"
  JOIN "Principal" p ON p.id = g."principalId"
  JOIN envp ON envp.id = g."environmentId"
  WHERE g.status = 'active' AND ($5::uuid IS NULL OR g."principalId" = $5::uuid)`;

const LEVEL_BONUS = `(CASE s.level WHEN 'admin' THEN 20 WHEN 'write' THEN 10 ELSE 0 END)`;
const PROD_BONUS = `(CASE WHEN e.tier = 'production' THEN 10 ELSE 0 END)`;
const risk = (base: string) => `LEAST(100, ${base} + ${LEVEL_BONUS} + ${PROD_BONUS})`;
const day = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

const FACTS = `jsonb_build_object(
    'principal', p."displayName", 'principalKind', p.kind, 'api', a.name, 'scope', s.name,
    'scopeLevel', s.level, 'environment', e.name, 'environmentTier', e.tier,
    'grantedAt', g."grantedAt", 'lastUsedAt', g."lastUsedAt", 'expiresAt', g."expiresAt")`;

// Written as "column + interval" on purpose: the planner then scans Grant once and hash-joins
// the few environments, instead of one parameterised index range scan per environment
// over nearly the whole table (measured several times slower at 200k grants).
/** Old enough to have had the chance to be used: window + grace. */
const JUDGEABLE = `g."grantedAt" + make_interval(days => envp.window_days + $3::int) <= $1::timestamptz`;
const UNUSED_IN_WINDOW = `(g."lastUsedAt" IS NULL OR g."lastUsedAt" + make_interval(days => envp.window_days) < $1::timestamptz)`;

export const RULES: RuleDefinition[] = [
  {
    rule: "dormant",
    usageBased: true,
    title: "Dormant",
    candidates: `
      SELECT g.id AS grant_id, ${risk("40")} AS risk,
        ${FACTS} || jsonb_build_object('windowDays', envp.window_days,
          'reason', 'Last used on ' || ${day(`g."lastUsedAt"`)} || ', no use in the ' || envp.window_days || '-day window') AS evidence,
        'Revoke: the grant has not been used within the dormancy window' AS suggestion
      ${BASE} AND NOT envp.held_back AND ${JUDGEABLE}
        AND g."lastUsedAt" IS NOT NULL AND g."lastUsedAt" + make_interval(days => envp.window_days) < $1::timestamptz`,
  },
  {
    rule: "never_used",
    usageBased: true,
    title: "Never used",
    candidates: `
      SELECT g.id AS grant_id, ${risk("45")} AS risk,
        ${FACTS} || jsonb_build_object('windowDays', envp.window_days, 'graceDays', $3::int,
          'reason', 'Never used since it was granted on ' || ${day(`g."grantedAt"`)}) AS evidence,
        'Revoke: the grant has never been used' AS suggestion
      ${BASE} AND NOT envp.held_back AND ${JUDGEABLE} AND g."lastUsedAt" IS NULL`,
  },
  {
    // A scope unused in the window while the same principal uses sibling
    // scopes of the same API: the principal needs the API, not this scope.
    rule: "over_privileged",
    usageBased: true,
    title: "Over-privileged",
    candidates: `
      SELECT g.id AS grant_id, ${risk("35")} AS risk,
        ${FACTS} || jsonb_build_object('windowDays', envp.window_days,
          'usedScopes', to_jsonb(u.used_names), 'keepScopeIds', to_jsonb(u.used_scope_ids),
          'reason', 'Scope ' || s.name || ' unused in the ' || envp.window_days || '-day window while ' ||
            array_to_string(u.used_names, ', ') || ' on the same API were used') AS evidence,
        'Reduce to the scopes actually used: ' || array_to_string(u.used_names, ', ') AS suggestion
      ${BASE} AND NOT envp.held_back AND ${JUDGEABLE} AND ${UNUSED_IN_WINDOW}`.replace(
      `JOIN envp ON envp.id = g."environmentId"`,
      `JOIN envp ON envp.id = g."environmentId"
       JOIN (
         -- scopes each principal used per API and environment in the window (an unused grant is never in here)
         SELECT g2."principalId" AS principal_id, s2."apiId" AS api_id, g2."environmentId" AS environment_id,
           array_agg(s2.name ORDER BY s2.name) AS used_names,
           array_agg(s2.id ORDER BY s2.name) AS used_scope_ids
         FROM "Grant" g2 JOIN "Scope" s2 ON s2.id = g2."scopeId" JOIN envp e2 ON e2.id = g2."environmentId"
         WHERE g2.status = 'active' AND ($5::uuid IS NULL OR g2."principalId" = $5::uuid) AND NOT e2.held_back
           AND g2."lastUsedAt" + make_interval(days => e2.window_days) >= $1::timestamptz
         GROUP BY 1, 2, 3) u
         ON u.principal_id = g."principalId" AND u.api_id = s."apiId" AND u.environment_id = g."environmentId"`,
    ),
  },
  {
    rule: "orphaned",
    usageBased: false,
    title: "Orphaned",
    candidates: `
      SELECT g.id AS grant_id,
        ${risk(`CASE p.status WHEN 'deprovisioned' THEN 70 WHEN 'suspended' THEN 55 ELSE 45 END`)} AS risk,
        ${FACTS} || jsonb_build_object('principalStatus', p.status, 'statusChangedAt', p."statusChangedAt",
          'team', t.name, 'teamDeletedAt', t."deletedAt",
          'reason', CASE WHEN p.status <> 'active'
            THEN 'Principal is ' || p.status || ' since ' || ${day(`p."statusChangedAt"`)} || ' but still holds this grant'
            ELSE 'Owning team ' || t.name || ' was deleted on ' || ${day(`t."deletedAt"`)} END) AS evidence,
        'Revoke: the principal or its owning team no longer exists' AS suggestion
      ${BASE} AND (p.status IN ('suspended', 'deprovisioned') OR t."deletedAt" IS NOT NULL)`.replace(
      `JOIN envp ON envp.id = g."environmentId"`,
      `JOIN envp ON envp.id = g."environmentId" LEFT JOIN "Team" t ON t.id = p."teamId"`,
    ),
  },
  {
    rule: "expired_active",
    usageBased: false,
    title: "Expired but active",
    candidates: `
      SELECT g.id AS grant_id, ${risk("50")} AS risk,
        ${FACTS} || jsonb_build_object('reason', 'Expired on ' || ${day(`g."expiresAt"`)} || ' but still active') AS evidence,
        'Revoke: the grant is past its expiry date' AS suggestion
      ${BASE} AND g."expiresAt" IS NOT NULL AND g."expiresAt" < $1::timestamptz`,
  },
  {
    rule: "stale_credential",
    usageBased: false,
    title: "Stale credential",
    candidates: `
      SELECT g.id AS grant_id, ${risk(`CASE WHEN c.any_expired THEN 50 ELSE 40 END`)} AS risk,
        ${FACTS} || jsonb_build_object('credentials', c.creds, 'rotationDays', $4::int,
          'reason', CASE WHEN c.any_expired THEN 'A credential of this principal is past its expiry and not revoked'
            ELSE 'A credential of this principal was not rotated in ' || $4::int || ' days' END) AS evidence,
        'Rotate or revoke the principal''s stale credentials' AS suggestion
      ${BASE}`.replace(
      `JOIN envp ON envp.id = g."environmentId"`,
      `JOIN envp ON envp.id = g."environmentId"
       JOIN (
         SELECT c."principalId",
           bool_or(c."expiresAt" IS NOT NULL AND c."expiresAt" < $1::timestamptz) AS any_expired,
           jsonb_agg(jsonb_build_object('prefix', c.prefix, 'lastRotatedAt', COALESCE(c."rotatedAt", c."createdAt"),
             'expiresAt', c."expiresAt") ORDER BY c.prefix, c.id) AS creds
         FROM "Credential" c
         WHERE c."revokedAt" IS NULL AND ($5::uuid IS NULL OR c."principalId" = $5::uuid)
           AND (COALESCE(c."rotatedAt", c."createdAt") < $1::timestamptz - make_interval(days => $4::int)
             OR (c."expiresAt" IS NOT NULL AND c."expiresAt" < $1::timestamptz))
         GROUP BY c."principalId") c ON c."principalId" = g."principalId"`,
    ),
  },
  {
    rule: "cross_environment",
    usageBased: false,
    title: "Cross-environment",
    candidates: `
      SELECT g.id AS grant_id, ${risk("55")} AS risk,
        ${FACTS} || jsonb_build_object('homeEnvironment', he.name, 'homeEnvironmentTier', he.tier,
          'reason', 'Principal belongs to ' || he.name || ' (' || he.tier || ') but holds a production grant') AS evidence,
        'Revoke: a non-production principal should not reach production' AS suggestion
      ${BASE} AND e.tier = 'production' AND he.tier <> 'production'`.replace(
      `JOIN envp ON envp.id = g."environmentId"`,
      `JOIN envp ON envp.id = g."environmentId" JOIN "Environment" he ON he.id = p."homeEnvironmentId"`,
    ),
  },
  {
    rule: "privileged_service",
    usageBased: false,
    title: "Privileged service principal",
    candidates: `
      SELECT g.id AS grant_id, ${risk("45")} AS risk,
        ${FACTS} || jsonb_build_object('reason', 'A ' || replace(p.kind::text, '_', ' ') || ' holds the ' ||
          CASE WHEN s.level = 'admin' THEN 'admin' ELSE 'wildcard' END || ' scope ' || s.name) AS evidence,
        'Reduce to the specific scopes the service needs' AS suggestion
      ${BASE} AND p.kind IN ('service_account', 'api_key') AND (s.level = 'admin' OR s.name LIKE '%*%')`,
  },
  {
    rule: "deprecated_scope",
    usageBased: false,
    title: "Deprecated scope",
    candidates: `
      SELECT g.id AS grant_id, ${risk("25")} AS risk,
        ${FACTS} || jsonb_build_object('reason', 'Scope ' || s.name || ' was deprecated on ' || ${day(`s."deprecatedAt"`)}) AS evidence,
        'Revoke or move to the scope that replaced it' AS suggestion
      ${BASE} AND s."deprecatedAt" IS NOT NULL`,
  },
];

export const RULE_TITLES = Object.fromEntries(RULES.map((r) => [r.rule, r.title])) as Record<FindingRule, string>;
