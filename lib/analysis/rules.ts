import type { FindingRule } from "@/lib/generated/prisma/client";

/**
 * The analysis rules as set-based SQL. Each rule is one SELECT of candidate
 * grants (grant_id, api_id, environment_id, risk, evidence, suggestion);
 * `statement.ts` stores them in a scratch table and writes the difference with
 * the open findings. Parameters every rule may use:
 *   $1 now (timestamptz)          $3 grace days
 *   $4 credential rotation days   $5 principal filter (uuid, null = all principals)
 * and the scratch table envp (id, window_days, held_back) of the environments.
 * Usage-based rules read analysis_unused / analysis_bundle_use, filled once per
 * run by the usage pass (statement.ts USAGE_PASS).
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
const JOINS = `
  JOIN "Scope" s ON s.id = g."scopeId"
  JOIN "Api" a ON a.id = s."apiId"
  JOIN "Environment" e ON e.id = g."environmentId"
  JOIN "Principal" p ON p.id = g."principalId"
  JOIN envp ON envp.id = g."environmentId"`;
const BASE = `
  FROM "Grant" g ${JOINS}
  WHERE g.status = 'active' AND ($5::uuid IS NULL OR g."principalId" = $5::uuid)`;
// The usage pass already kept only active, judgeable (window + grace), unused grants
// in environments whose feed is fresh, for the principal filter.
const UNUSED_BASE = `
  FROM analysis_unused g ${JOINS}
  WHERE true`;
/** Identifies the candidate and copies its API and environment onto the finding (the queue filters by them). */
const IDS = `g.id AS grant_id, s."apiId" AS api_id, g."environmentId" AS environment_id`;

const LEVEL_BONUS = `(CASE s.level WHEN 'admin' THEN 20 WHEN 'write' THEN 10 ELSE 0 END)`;
const PROD_BONUS = `(CASE WHEN e.tier = 'production' THEN 10 ELSE 0 END)`;
const risk = (base: string) => `LEAST(100, ${base} + ${LEVEL_BONUS} + ${PROD_BONUS})`;
const day = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

const FACTS = `jsonb_build_object(
    'principal', p."displayName", 'principalKind', p.kind, 'api', a.name, 'scope', s.name,
    'scopeLevel', s.level, 'environment', e.name, 'environmentTier', e.tier,
    'grantedAt', g."grantedAt", 'lastUsedAt', g."lastUsedAt", 'expiresAt', g."expiresAt")`;

export const RULES: RuleDefinition[] = [
  {
    rule: "dormant",
    usageBased: true,
    title: "Dormant",
    candidates: `
      SELECT ${IDS}, ${risk("40")} AS risk,
        ${FACTS} || jsonb_build_object('windowDays', envp.window_days,
          'reason', 'Last used on ' || ${day(`g."lastUsedAt"`)} || ', no use in the ' || envp.window_days || '-day window') AS evidence,
        'Revoke: the grant has not been used within the dormancy window' AS suggestion
      ${UNUSED_BASE} AND g."lastUsedAt" IS NOT NULL`,
  },
  {
    rule: "never_used",
    usageBased: true,
    title: "Never used",
    candidates: `
      SELECT ${IDS}, ${risk("45")} AS risk,
        ${FACTS} || jsonb_build_object('windowDays', envp.window_days, 'graceDays', $3::int,
          'reason', 'Never used since it was granted on ' || ${day(`g."grantedAt"`)}) AS evidence,
        'Revoke: the grant has never been used' AS suggestion
      ${UNUSED_BASE} AND g."lastUsedAt" IS NULL`,
  },
  {
    // A scope unused in the window while the same principal uses sibling
    // scopes of the same API: the principal needs the API, not this scope.
    // "Used" = some request was allowed through a requirement set containing
    // it: the proxy reports every grant of the allowing set (proxy/decide.ts,
    // recordAllowedUsage), so b is never called unused while "a AND b" is used.
    rule: "over_privileged",
    usageBased: true,
    title: "Over-privileged",
    candidates: `
      SELECT ${IDS}, ${risk("35")} AS risk,
        ${FACTS} || jsonb_build_object('windowDays', envp.window_days,
          'usedScopes', to_jsonb(u.used_names), 'keepScopeIds', to_jsonb(u.used_scope_ids),
          'reason', 'Scope ' || s.name || ' unused in the ' || envp.window_days || '-day window while ' ||
            array_to_string(u.used_names, ', ') || ' on the same API were used') AS evidence,
        'Reduce to the scopes actually used: ' || array_to_string(u.used_names, ', ') AS suggestion
      ${UNUSED_BASE}`.replace(
      `JOIN envp ON envp.id = g."environmentId"`,
      `JOIN envp ON envp.id = g."environmentId"
       -- the scopes the principal used on this API and environment in the window
       JOIN analysis_bundle_use u
         ON u.principal_id = g."principalId" AND u.api_id = s."apiId" AND u.environment_id = g."environmentId"`,
    ),
  },
  {
    rule: "orphaned",
    usageBased: false,
    title: "Orphaned",
    candidates: `
      SELECT ${IDS},
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
      SELECT ${IDS}, ${risk("50")} AS risk,
        ${FACTS} || jsonb_build_object('reason', 'Expired on ' || ${day(`g."expiresAt"`)} || ' but still active') AS evidence,
        'Revoke: the grant is past its expiry date' AS suggestion
      ${BASE} AND g."expiresAt" IS NOT NULL AND g."expiresAt" < $1::timestamptz`,
  },
  {
    rule: "stale_credential",
    usageBased: false,
    title: "Stale credential",
    candidates: `
      SELECT ${IDS}, ${risk(`CASE WHEN c.any_expired THEN 50 ELSE 40 END`)} AS risk,
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
      SELECT ${IDS}, ${risk("55")} AS risk,
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
      SELECT ${IDS}, ${risk("45")} AS risk,
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
      SELECT ${IDS}, ${risk("25")} AS risk,
        ${FACTS} || jsonb_build_object('reason', 'Scope ' || s.name || ' was deprecated on ' || ${day(`s."deprecatedAt"`)}) AS evidence,
        'Revoke or move to the scope that replaced it' AS suggestion
      ${BASE} AND s."deprecatedAt" IS NOT NULL`,
  },
];

/** Rules evaluated as usage arrives (lib/usage/anomalies.ts), not by the analysis run. */
export const ANOMALY_TITLES = {
  reactivated: "Reactivated after dormancy",
  new_endpoint: "First call of a write/admin endpoint",
  volume_spike: "Volume spike",
  new_network: "New client network",
} as const;

export const RULE_TITLES = { ...Object.fromEntries(RULES.map((r) => [r.rule, r.title])), ...ANOMALY_TITLES } as Record<FindingRule, string>;
