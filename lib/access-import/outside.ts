import type { Actor } from "@/lib/auth/actor";
import { loadTwoPersonRule } from "@/lib/auth/sod";
import { knownRoles } from "@/lib/auth/roles";
import { appendAuditEvent } from "@/lib/audit";
import type { Tx } from "@/lib/db";
import { recordAccessChange } from "@/lib/access/common";
import { planDecision, recordDecision, twoPersonRuleCovers } from "@/lib/review/record";
import type { Kind } from "./desired";
import type { FullPlan } from "./plan";
import { freshGrantIds } from "./grant-plan";

// Granted outside review (issue 22, point 5). Once a source has been imported,
// its file is the gateway's own record of who may call what; a later import
// that shows a grant or key this source never brought in before was created at
// the gateway, not through Tollgate (Tollgate's own grants and keys are not in
// the diff's creates: a key Tollgate issued is refused as a collision, and a
// grant Tollgate made is its own row). Each such grant (and every active grant
// of a principal that got such a key) gets a `granted_outside_review` finding;
// with the source's autoRollback on, those findings are decided "revoke" right
// away through the review queue's decision path and the keys revoked through
// lib/access's key path, both signed by the admin who turned rollback on.

export interface OutsideAccess {
  grantIds: string[];
  credentialIds: string[];
}

export interface OutsideResult {
  findingsOpened: number;
  rolledBackGrants: number;
  proposedGrants: number;
  revokedKeys: number;
  /** Not to be upserted at the proxies by this import: they were rolled back in the same transaction. */
  withheld: { grantIds: Set<string>; credentialIds: Set<string> };
}

/** Creates of the diff that no earlier import of this source mapped (a mapped row deleted since is not new). */
export async function outsideAccess(tx: Tx, full: FullPlan, ids: Record<Kind, Map<string, string>>): Promise<OutsideAccess> {
  const credentialIds = full.diff.credential.create.filter((c) => !full.live.credential.has(c.ext)).map((c) => ids.credential.get(c.ext)!);
  // Grants are planned in SQL (grant-plan.ts): read from this transaction's diff table.
  return { grantIds: await freshGrantIds(tx), credentialIds };
}

interface OpenedFinding {
  id: string;
  grantId: string;
}

export async function recordOutsideAccess(
  tx: Tx,
  actor: Actor,
  full: FullPlan,
  source: { id: string; name: string; autoRollback: boolean; autoRollbackById: string | null },
  outside: OutsideAccess,
  now: Date,
): Promise<OutsideResult> {
  const none: OutsideResult = { findingsOpened: 0, rolledBackGrants: 0, proposedGrants: 0, revokedKeys: 0, withheld: { grantIds: new Set(), credentialIds: new Set() } };
  if (outside.grantIds.length + outside.credentialIds.length === 0) return none;
  const evidence = JSON.stringify({ source: source.name, fileSha256: full.plan.source.fileSha256, planHash: full.plan.planHash, importedAt: now.toISOString() });
  // One finding per grant; the keys added outside are named (by display prefix) on their principal's grants.
  const opened = await tx.$queryRaw<OpenedFinding[]>`
    WITH keys AS (
      SELECT c."principalId", array_agg(c.prefix ORDER BY c.prefix) AS prefixes
      FROM "Credential" c WHERE c.id = ANY(${outside.credentialIds}::uuid[]) GROUP BY c."principalId")
    INSERT INTO "Finding" (id, "grantId", rule, severity, "riskScore", evidence, suggestion)
    SELECT gen_random_uuid(), g.id, 'granted_outside_review',
           CASE WHEN s.level = 'admin' OR e.tier = 'production' THEN 'high'::"Severity" ELSE 'medium'::"Severity" END,
           CASE WHEN s.level = 'admin' THEN 85 ELSE 70 END,
           ${evidence}::jsonb || jsonb_build_object('grantAddedOutside', g.id = ANY(${outside.grantIds}::uuid[]), 'keysAddedOutside', coalesce(to_jsonb(k.prefixes), '[]'::jsonb)),
           'Granted at the gateway, outside review: revoke it, or approve it if it was meant to be given.'
    FROM "Grant" g
    JOIN "Scope" s ON s.id = g."scopeId"
    JOIN "Environment" e ON e.id = g."environmentId"
    LEFT JOIN keys k ON k."principalId" = g."principalId"
    WHERE g.status = 'active' AND g."environmentId" = ${full.environmentId}::uuid
      AND (g.id = ANY(${outside.grantIds}::uuid[]) OR k."principalId" IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM "Finding" f WHERE f."grantId" = g.id AND f.rule = 'granted_outside_review' AND f.status = 'open')
    RETURNING id, "grantId"`;
  const result: OutsideResult = { ...none, findingsOpened: opened.length };
  const signer = source.autoRollback && source.autoRollbackById ? await rollbackSigner(tx, source.autoRollbackById) : null;
  if (!signer) return result;

  const rule = await loadTwoPersonRule(tx);
  const grants = await loadDecisionGrants(tx, opened.map((f) => f.grantId));
  for (const f of opened) {
    const grant = grants.get(f.grantId)!;
    const planned = await planDecision(tx, grant, "revoke", undefined, now);
    const awaiting = await twoPersonRuleCovers(tx, grant, planned.plan, rule);
    const d = await recordDecision(tx, {
      deciderId: signer.userId,
      grant,
      findingId: f.id,
      campaignItemId: null,
      kind: "revoke",
      justification: `Automatic rollback: granted outside review (import source ${source.name})`,
      reReviewAt: null,
      planned,
      awaitingConfirmation: awaiting,
      automation: "import_rollback",
      now,
    });
    if (d.enforcement === "proposed") result.proposedGrants++;
    else {
      result.rolledBackGrants++;
      result.withheld.grantIds.add(f.grantId);
    }
  }
  // Keys nobody issued through Tollgate stop at every proxy (a key revocation is not under the two-person rule in lib/access either).
  const keys = await tx.credential.findMany({ where: { id: { in: outside.credentialIds }, revokedAt: null }, select: { id: true, principalId: true, principal: { select: { homeEnvironmentId: true } } } });
  await tx.credential.updateMany({ where: { id: { in: keys.map((k) => k.id) } }, data: { revokedAt: now } });
  for (const [principalId, own] of groupBy(keys, (k) => k.principalId)) {
    const home = own[0].principal.homeEnvironmentId;
    const proxies = await tx.proxy.findMany({ where: home ? { environmentId: home } : {}, select: { id: true }, orderBy: { name: "asc" } });
    await recordAccessChange(tx, {
      kind: "revoke_key",
      actor: signer,
      principalId,
      credentialIds: own.map((k) => k.id),
      proxyIds: proxies.map((p) => p.id),
      ops: own.map((k) => ({ op: "delete" as const, kind: "credential" as const, id: k.id })),
    });
    for (const k of own) result.withheld.credentialIds.add(k.id);
  }
  result.revokedKeys = keys.length;
  await appendAuditEvent(tx, {
    actor: `${signer.email} (import rollback, source ${source.name})`,
    action: "import.rollback_outside_review",
    target: `import-source:${source.id}`,
    data: { source: source.name, importedBy: actor.kind === "user" ? actor.email : actor.kind === "service" ? `service:${actor.name}` : `system:${actor.name}`, findings: opened.map((f) => f.id), rolledBackGrants: result.rolledBackGrants, proposedGrants: result.proposedGrants, revokedKeys: result.revokedKeys },
  });
  return result;
}

/** The admin who turned rollback on, as an actor; no longer an admin (or gone) → no automatic rollback. */
async function rollbackSigner(tx: Tx, userId: string): Promise<Extract<Actor, { kind: "user" }> | null> {
  const u = await tx.user.findUnique({ where: { id: userId }, select: { id: true, email: true, name: true, roles: true, principalId: true } });
  if (!u) return null;
  const roles = knownRoles(u.roles);
  if (!roles.includes("admin")) return null;
  return { kind: "user", userId: u.id, email: u.email, name: u.name, roles, principalId: u.principalId };
}

async function loadDecisionGrants(tx: Tx, grantIds: string[]) {
  const rows = await tx.grant.findMany({
    where: { id: { in: grantIds } },
    select: { id: true, principalId: true, environmentId: true, scope: { select: { apiId: true, level: true, name: true } }, environment: { select: { tier: true, name: true } }, principal: { select: { displayName: true } } },
  });
  return new Map(rows.map((g) => [g.id, { ...g, scope: { ...g.scope, level: String(g.scope.level) }, environment: { ...g.environment, tier: String(g.environment.tier) } }]));
}

function groupBy<T>(list: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of list) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}
