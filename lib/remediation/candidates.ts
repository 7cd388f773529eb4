import type { Tx } from "@/lib/db";
import type { PrismaClient } from "@/lib/db";
import type { RemediationKindName } from "./schemas";

// What a policy would act on at `now`, computed in SQL over the whole
// inventory (one statement per kind). Grants and keys a policy already has a
// live item for (noticed, proposed, objected, executed, rolled back) are left
// out, so a periodic run never notices the same thing twice and a rolled-back
// or objected grant is not taken again by the same policy.

export interface Candidate {
  principalId: string;
  principal: string;
  grantId: string | null;
  credentialId: string | null;
  /** Grants the item removes (revoke: one; reduce: the unused ones). */
  grantIds: string[];
  keptScopeIds: string[];
  summary: string;
}

export interface PolicyRule {
  id: string | null;
  kind: RemediationKindName;
  days: number;
}

type Client = Tx | PrismaClient;
const DAY_MS = 86_400_000;
const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : null);

export async function findCandidates(client: Client, policy: PolicyRule, now: Date): Promise<Candidate[]> {
  const cutoff = new Date(now.getTime() - policy.days * DAY_MS);
  if (policy.kind === "revoke_unused_grants") {
    const rows = await client.$queryRaw<{ grantId: string; principalId: string; principal: string; api: string; scope: string; environment: string; lastUsedAt: Date | null }[]>`
      SELECT g.id AS "grantId", g."principalId", p."displayName" AS principal, a.name AS api, s.name AS scope, e.name AS environment, g."lastUsedAt"
      FROM "Grant" g
      JOIN "Scope" s ON s.id = g."scopeId"
      JOIN "Api" a ON a.id = s."apiId"
      JOIN "Environment" e ON e.id = g."environmentId"
      JOIN "Principal" p ON p.id = g."principalId"
      WHERE g.status = 'active' AND e.tier <> 'production'
        AND coalesce(g."lastUsedAt", g."grantedAt") < ${cutoff}
        AND NOT EXISTS (SELECT 1 FROM "RemediationItem" i WHERE i."policyId" = ${policy.id}::uuid AND i."grantId" = g.id AND i.status <> 'skipped')
        AND NOT EXISTS (SELECT 1 FROM "Decision" d WHERE d."grantId" = g.id AND d.enforcement = 'proposed')
      ORDER BY p."displayName", a.name, s.name, g.id`;
    return rows.map((r) => ({
      principalId: r.principalId,
      principal: r.principal,
      grantId: r.grantId,
      credentialId: null,
      grantIds: [r.grantId],
      keptScopeIds: [],
      summary: `Revoke ${r.scope} on ${r.api} (${r.environment}): ${r.lastUsedAt ? `last used ${day(r.lastUsedAt)}` : "never used"}`,
    }));
  }
  if (policy.kind === "reduce_service_accounts") {
    const rows = await client.$queryRaw<{ principalId: string; principal: string; api: string; environment: string; drop: string[]; dropNames: string[]; keep: string[] }[]>`
      SELECT g."principalId", p."displayName" AS principal, a.name AS api, e.name AS environment,
             array_agg(g.id::text ORDER BY s.name) FILTER (WHERE NOT u.used) AS drop,
             array_agg(s.name ORDER BY s.name) FILTER (WHERE NOT u.used) AS "dropNames",
             array_agg(g."scopeId"::text ORDER BY s.name) FILTER (WHERE u.used) AS keep
      FROM "Grant" g
      JOIN "Scope" s ON s.id = g."scopeId"
      JOIN "Api" a ON a.id = s."apiId"
      JOIN "Environment" e ON e.id = g."environmentId"
      JOIN "Principal" p ON p.id = g."principalId" AND p.kind = 'service_account'
      CROSS JOIN LATERAL (SELECT g."lastUsedAt" IS NOT NULL AND g."lastUsedAt" >= ${cutoff} AS used) u
      WHERE g.status = 'active'
      GROUP BY g."principalId", p."displayName", a.id, a.name, e.id, e.name
      HAVING count(*) FILTER (WHERE u.used) > 0 AND count(*) FILTER (WHERE NOT u.used) > 0
      ORDER BY p."displayName", a.name`;
    const taken = await liveGrantItems(client, policy.id);
    return rows
      .filter((r) => !r.drop.some((g) => taken.has(g)))
      .map((r) => ({
        principalId: r.principalId,
        principal: r.principal,
        grantId: r.drop[0],
        credentialId: null,
        grantIds: r.drop,
        keptScopeIds: r.keep,
        summary: `Reduce ${r.api} (${r.environment}) to the scopes used in ${policy.days} days: remove ${r.dropNames.join(", ")}`,
      }));
  }
  const rows = await client.$queryRaw<{ credentialId: string; principalId: string; principal: string; prefix: string; createdAt: Date }[]>`
    SELECT c.id AS "credentialId", c."principalId", p."displayName" AS principal, c.prefix, c."createdAt"
    FROM "Credential" c JOIN "Principal" p ON p.id = c."principalId"
    WHERE c."revokedAt" IS NULL AND c."createdAt" < ${cutoff}
      AND (c."expiresAt" IS NULL OR c."expiresAt" > ${now})
      AND NOT EXISTS (SELECT 1 FROM "RemediationItem" i WHERE i."policyId" = ${policy.id}::uuid AND i."credentialId" = c.id AND i.status <> 'skipped')
    ORDER BY p."displayName", c.prefix, c.id`;
  return rows.map((r) => ({
    principalId: r.principalId,
    principal: r.principal,
    grantId: null,
    credentialId: r.credentialId,
    grantIds: [],
    keptScopeIds: [],
    summary: `Revoke key ${r.prefix}…: not rotated since ${day(r.createdAt)}`,
  }));
}

async function liveGrantItems(client: Client, policyId: string | null): Promise<Set<string>> {
  if (!policyId) return new Set();
  const rows = await client.$queryRaw<{ id: string }[]>`
    SELECT DISTINCT unnest("grantIds")::text AS id FROM "RemediationItem" WHERE "policyId" = ${policyId}::uuid AND status <> 'skipped'`;
  return new Set(rows.map((r) => r.id));
}
