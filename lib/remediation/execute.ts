import type { Actor } from "@/lib/auth/actor";
import { knownRoles } from "@/lib/auth/roles";
import { assertNotSelfReview, loadTwoPersonRule } from "@/lib/auth/sod";
import { appendAuditEvent } from "@/lib/audit";
import { credentialTargets, recordAccessChange } from "@/lib/access/common";
import type { PrismaClient, Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { FindingRule } from "@/lib/generated/prisma/client";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { planDecision, recordDecision, twoPersonRuleCovers, type DecisionGrant } from "@/lib/review/record";
import { noticePolicy, policyActor } from "./notice";

// The end of a notice period: each due item is re-checked (still unused, still
// active) and carried out through the review queue's decision path
// (lib/review/record.ts: Decision → grant change → outbox → proxy), signed by
// the admin who enabled the policy, with `automation = "policy"`. Under the
// two-person rule a covered change becomes a proposal on a finding in the
// queue, for a second reviewer, instead of an action. Keys go through
// lib/access's key path (AccessChange → outbox). One transaction per item.

const DAY_MS = 86_400_000;

/** The finding an item becomes when someone must look at it (an objection, or a two-person proposal). */
export function findingRuleFor(kind: string, neverUsed: boolean): FindingRule {
  if (kind === "reduce_service_accounts") return "over_privileged";
  if (kind === "revoke_unrotated_keys") return "stale_credential";
  return neverUsed ? "never_used" : "dormant";
}

export interface RunResult {
  noticed: number;
  executed: number;
  proposed: number;
  skipped: number;
}

/** The periodic run (pg-boss, lib/enforcement/background.ts): notice new items, then execute what is due. */
export async function runRemediation(client: PrismaClient, now: Date): Promise<RunResult> {
  const out: RunResult = { noticed: 0, executed: 0, proposed: 0, skipped: 0 };
  const policies = await client.remediationPolicy.findMany({ where: { status: "enabled" }, select: { id: true }, orderBy: { createdAt: "asc" } });
  for (const p of policies) {
    out.noticed += await client.$transaction((tx) => noticePolicy(tx, p.id, now), { timeout: 120_000 });
  }
  const due = await client.remediationItem.findMany({
    where: { status: "noticed", dueAt: { lte: now }, policy: { status: "enabled" } },
    select: { id: true },
    orderBy: [{ dueAt: "asc" }, { id: "asc" }],
  });
  for (const item of due) {
    const r = await client.$transaction((tx) => executeItem(tx, item.id, now));
    out[r]++;
  }
  if (out.executed + out.proposed > 0) wakeDelivery();
  return out;
}

async function executeItem(tx: Tx, itemId: string, now: Date): Promise<"executed" | "proposed" | "skipped"> {
  const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "RemediationItem" WHERE id = ${itemId}::uuid AND status = 'noticed' FOR UPDATE`;
  if (!locked) return "skipped"; // objected or taken by a concurrent run meanwhile
  const item = await tx.remediationItem.findUniqueOrThrow({ where: { id: itemId }, include: { policy: true } });
  const signer = item.policy.enabledById ? await signerActor(tx, item.policy.enabledById) : null;
  const label = await policyActor(tx, item.policy);
  const skip = async (why: string) => {
    await tx.remediationItem.update({ where: { id: item.id }, data: { status: "skipped", executedAt: now, summary: `${item.summary} — skipped: ${why}` } });
    await appendAuditEvent(tx, { actor: label, action: "remediation.skip", target: `remediation-item:${item.id}`, data: { why } });
    return "skipped" as const;
  };
  if (!signer) return skip("the admin who enabled the policy is no longer an admin");
  const cutoff = new Date(now.getTime() - item.policy.days * DAY_MS);

  if (item.credentialId) {
    const cred = await tx.credential.findUnique({ where: { id: item.credentialId }, select: { id: true, prefix: true, revokedAt: true, createdAt: true, principal: { select: { id: true, homeEnvironmentId: true } } } });
    if (!cred || cred.revokedAt) return skip("the key is already revoked");
    if (cred.createdAt >= cutoff) return skip("the key was rotated meanwhile");
    await tx.credential.update({ where: { id: cred.id }, data: { revokedAt: now } });
    const change = await recordAccessChange(tx, {
      kind: "revoke_key",
      actor: signer,
      principalId: cred.principal.id,
      credentialIds: [cred.id],
      proxyIds: await credentialTargets(tx, cred.principal.homeEnvironmentId),
      ops: [{ op: "delete", kind: "credential", id: cred.id }],
    });
    await tx.accessChange.update({ where: { id: change.id }, data: { actorLabel: label } });
    await tx.remediationItem.update({ where: { id: item.id }, data: { status: "executed", executedAt: now, accessChangeId: change.id } });
    await appendAuditEvent(tx, { actor: label, action: "remediation.execute", target: `remediation-item:${item.id}`, data: { policy: item.policy.name, credentialId: cred.id, prefix: cred.prefix, changeId: change.id } });
    return "executed";
  }

  const grants = await tx.grant.findMany({ where: { id: { in: item.grantIds } }, select: { id: true, status: true, lastUsedAt: true, grantedAt: true } });
  if (grants.length !== item.grantIds.length || grants.some((g) => g.status !== "active")) return skip("the access changed meanwhile");
  if (grants.some((g) => (g.lastUsedAt ?? g.grantedAt) >= cutoff)) return skip("used since the notice");
  const grant = await decisionGrant(tx, item.grantId!);
  try {
    await assertNotSelfReview(tx, signer, grant.id);
  } catch (e) {
    if (e instanceof AppError && e.code === "forbidden") return skip("it is the enabling admin's own access (separation of duties)");
    throw e;
  }
  const kind = item.policy.kind === "reduce_service_accounts" ? "reduce" : "revoke";
  let planned;
  try {
    planned = await planDecision(tx, grant, kind, kind === "reduce" ? item.keptScopeIds : undefined, now);
  } catch (e) {
    if (e instanceof AppError && e.code === "bad_request") return skip(e.message);
    throw e;
  }
  const awaiting = await twoPersonRuleCovers(tx, grant, planned.plan, await loadTwoPersonRule(tx));
  let findingId: string | null = null;
  if (awaiting) {
    // A proposal lives on a finding, where the queue's second reviewer confirms or rejects it.
    const f = await tx.finding.create({
      data: {
        grantId: grant.id,
        rule: findingRuleFor(item.policy.kind, grants.every((g) => g.lastUsedAt === null)),
        severity: "medium",
        riskScore: 50,
        evidence: { policy: item.policy.name, remediationItemId: item.id, summary: item.summary },
        suggestion: `Remediation policy "${item.policy.name}": confirm or reject its proposal.`,
      },
      select: { id: true },
    });
    findingId = f.id;
  }
  const d = await recordDecision(tx, {
    deciderId: signer.userId,
    grant,
    findingId,
    campaignItemId: null,
    kind,
    justification: `Remediation policy "${item.policy.name}": ${item.summary}`,
    reReviewAt: null,
    planned,
    awaitingConfirmation: awaiting,
    automation: "policy",
    remediationItemId: item.id,
    now,
  });
  await tx.remediationItem.update({
    where: { id: item.id },
    data: { status: awaiting ? "proposed" : "executed", executedAt: now, decisionId: d.decisionId, findingId, grantIds: d.plan.revokeGrantIds },
  });
  await appendAuditEvent(tx, {
    actor: label,
    action: awaiting ? "remediation.propose" : "remediation.execute",
    target: `remediation-item:${item.id}`,
    data: { policy: item.policy.name, decisionId: d.decisionId, kind, grantIds: d.plan.revokeGrantIds, principalId: item.principalId },
  });
  return awaiting ? "proposed" : "executed";
}

export async function decisionGrant(tx: Tx, grantId: string): Promise<DecisionGrant> {
  const g = await tx.grant.findUniqueOrThrow({
    where: { id: grantId },
    select: { id: true, principalId: true, environmentId: true, scope: { select: { apiId: true, level: true, name: true } }, environment: { select: { tier: true, name: true } }, principal: { select: { displayName: true } } },
  });
  return { ...g, scope: { ...g.scope, level: String(g.scope.level) }, environment: { ...g.environment, tier: String(g.environment.tier) } };
}

/** The enabling admin as the decider; no longer an admin (or gone) → the policy does not act. */
async function signerActor(tx: Tx, userId: string): Promise<Extract<Actor, { kind: "user" }> | null> {
  const u = await tx.user.findUnique({ where: { id: userId }, select: { id: true, email: true, name: true, roles: true, principalId: true } });
  if (!u) return null;
  const roles = knownRoles(u.roles);
  return roles.includes("admin") ? { kind: "user", userId: u.id, email: u.email, name: u.name, roles, principalId: u.principalId } : null;
}
