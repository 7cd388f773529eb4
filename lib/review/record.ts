import type { Tx } from "@/lib/db";
import { requiresSecondReviewer, type TwoPersonRule } from "@/lib/auth/sod";
import { badRequest } from "@/lib/errors";
import type { DecisionKind, EnforcementState } from "@/lib/generated/prisma/client";
import { proxyTargets } from "@/lib/enforcement/outbox";
import { dormancyDaysFor, loadSettings } from "@/lib/settings";
import { applyDecision, enforcementFor, type DecisionPlan } from "./apply";
import { refuseStranded, strandedByReduce } from "./sets";

/**
 * The one decision path shared by the review queue (a finding) and
 * certification campaigns (a campaign item): plan → Decision row → grant
 * change, findings, outbox. Callers lock their own subject, check separation
 * of duties, and append their audit event in the same transaction.
 */

/** The grant a decision is about, as the caller loaded it (under its lock). */
export interface DecisionGrant {
  id: string;
  principalId: string;
  environmentId: string;
  scope: { apiId: string; level: string; name: string };
  environment: { tier: string; name: string };
  principal: { displayName: string };
}

export interface DecisionRequest {
  deciderId: string;
  grant: DecisionGrant;
  /** Exactly one of findingId / campaignItemId is set. */
  findingId: string | null;
  campaignItemId: string | null;
  kind: DecisionKind;
  justification: string | null;
  reReviewAt: Date | null;
  keepScopeIds?: string[];
  /** The caller's planDecision() result, when it needed the plan first (the two-person check); else planned here. */
  planned?: PlannedDecision;
  /** Two-person rule: store as a proposal, apply nothing yet. */
  awaitingConfirmation: boolean;
  now: Date;
}

export interface PlannedDecision {
  plan: DecisionPlan;
  kept: string[];
}

export interface RecordedDecision {
  decisionId: string;
  plan: DecisionPlan;
  kept: string[];
  enforcement: EnforcementState;
}

const DAY_MS = 86_400_000;

/**
 * Reduce keeps a subset of the principal's active scopes on the grant's API
 * (default: those used within the dormancy window) and revokes the rest. It
 * never splits a scope set the principal held whole (sets.ts).
 */
export async function planReduce(tx: Tx, grant: DecisionGrant, keep: string[] | undefined, now: Date): Promise<{ plan: DecisionPlan; kept: string[] }> {
  const siblings = await tx.grant.findMany({
    where: { principalId: grant.principalId, environmentId: grant.environmentId, status: "active", scope: { apiId: grant.scope.apiId } },
    select: { id: true, scopeId: true, lastUsedAt: true },
  });
  let kept = keep;
  if (!kept) {
    const windowStart = now.getTime() - dormancyDaysFor(await loadSettings(tx), grant.environmentId) * DAY_MS;
    kept = siblings.filter((g) => g.lastUsedAt && g.lastUsedAt.getTime() >= windowStart).map((g) => g.scopeId);
  }
  const held = new Set(siblings.map((g) => g.scopeId));
  const foreign = kept.find((id) => !held.has(id));
  if (foreign) throw badRequest(`keepScopeIds: ${foreign} is not a scope this principal holds on this API`, "keepScopeIds");
  if (kept.length === 0) throw badRequest("keepScopeIds: keep at least one scope (to remove all, revoke)", "keepScopeIds");
  const keepSet = new Set(kept);
  const dropped = siblings.filter((g) => !keepSet.has(g.scopeId)).map((g) => g.id);
  if (dropped.length === 0) throw badRequest("keepScopeIds: nothing would be removed (to keep everything, approve)", "keepScopeIds");
  refuseStranded(await strandedByReduce(tx, grant.scope.apiId, held, keepSet));
  return { plan: { kind: "reduce", revokeGrantIds: dropped, proxyIds: [] }, kept: [...keepSet] };
}

/** What a decision kind changes, with its enforcement targets. */
export async function planDecision(tx: Tx, grant: DecisionGrant, kind: DecisionKind, keepScopeIds: string[] | undefined, now: Date): Promise<PlannedDecision> {
  let plan: DecisionPlan;
  let kept: string[] = [];
  if (kind === "reduce") ({ plan, kept } = await planReduce(tx, grant, keepScopeIds, now));
  else plan = { kind, revokeGrantIds: kind === "revoke" ? [grant.id] : [], proxyIds: [] };
  if (plan.revokeGrantIds.length) plan.proxyIds = await proxyTargets(tx, grant.environmentId);
  return { plan, kept };
}

/**
 * Whether the two-person rule covers a planned decision: its own grant, or any
 * grant it would revoke — reducing a principal's write grant down to read must
 * not drop their production admin scope on one person's say. Shared by the
 * review queue and certification campaigns, which pass the plan on to
 * recordDecision so it is made once.
 */
export async function twoPersonRuleCovers(tx: Tx, grant: DecisionGrant, plan: DecisionPlan, rule: TwoPersonRule): Promise<boolean> {
  if (requiresSecondReviewer(grant, rule)) return true;
  const others = plan.revokeGrantIds.filter((id) => id !== grant.id);
  if (others.length === 0 || !rule.enabled) return false;
  const dropped = await tx.grant.findMany({ where: { id: { in: others } }, select: { scope: { select: { level: true } } } });
  return dropped.some((g) => requiresSecondReviewer({ scope: g.scope, environment: grant.environment }, rule));
}

/** Order-insensitive: the grants a re-planned proposal revokes are exactly those the proposer saw. */
export const sameGrants = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

export async function recordDecision(tx: Tx, r: DecisionRequest): Promise<RecordedDecision> {
  const { plan, kept } = r.planned ?? (await planDecision(tx, r.grant, r.kind, r.keepScopeIds, r.now));
  const decision = await tx.decision.create({
    data: {
      findingId: r.findingId,
      campaignItemId: r.campaignItemId,
      grantId: r.grant.id,
      kind: r.kind,
      justification: r.justification,
      reReviewAt: r.reReviewAt,
      keptScopeIds: kept,
      plannedRevokeGrantIds: plan.revokeGrantIds,
      deciderId: r.deciderId,
      awaitingConfirmation: r.awaitingConfirmation,
      enforcement: enforcementFor(plan),
    },
  });
  const enforcement = r.awaitingConfirmation
    ? decision.enforcement
    : await applyDecision(tx, decision.id, r.findingId, plan, r.reReviewAt, r.now);
  return { decisionId: decision.id, plan, kept, enforcement };
}
