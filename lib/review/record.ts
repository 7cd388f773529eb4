import type { Tx } from "@/lib/db";
import { requiresSecondReviewer, type TwoPersonRule } from "@/lib/auth/sod";
import { AppError, badRequest, conflict } from "@/lib/errors";
import type { Decision, DecisionKind, EnforcementState } from "@/lib/generated/prisma/client";
import { proxyTargets } from "@/lib/enforcement/outbox";
import { dormancyDaysFor, loadSettings } from "@/lib/settings";
import { applyDecision, enforcementFor, type DecisionPlan } from "./apply";
import { KEEP_NONE, REMOVES_NOTHING } from "./reduce-plan";
import { refuseStranded, strandedByReduce } from "./sets";

/**
 * The one decision path shared by the review queue (a finding) and
 * certification campaigns (a campaign item): plan → Decision row → grant
 * change, findings, outbox (applyDecision). A two-person-rule proposal stops
 * after the row (enforcement "proposed") and reaches the same apply step when
 * a second person confirms it (confirmProposal). Callers lock their own
 * subject, check separation of duties and who may confirm, and append their
 * audit event in the same transaction.
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
  /** Made by automation (an import rollback, a remediation policy): the decider is the admin who enabled it. */
  automation?: "import_rollback" | "policy";
  remediationItemId?: string;
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
  if (kept.length === 0) throw badRequest(`keepScopeIds: ${KEEP_NONE}`, "keepScopeIds");
  const keepSet = new Set(kept);
  const dropped = siblings.filter((g) => !keepSet.has(g.scopeId)).map((g) => g.id);
  if (dropped.length === 0) throw badRequest(`keepScopeIds: ${REMOVES_NOTHING}`, "keepScopeIds");
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
const sameGrants = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

export async function recordDecision(tx: Tx, r: DecisionRequest): Promise<RecordedDecision> {
  const { plan, kept } = r.planned ?? (await planDecision(tx, r.grant, r.kind, r.keepScopeIds, r.now));
  const proposed = r.awaitingConfirmation;
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
      automation: r.automation ?? null,
      remediationItemId: r.remediationItemId ?? null,
      // The two say the same (CHECK "Decision_proposed_state", migration 0023).
      awaitingConfirmation: proposed,
      enforcement: proposed ? "proposed" : enforcementFor(plan),
    },
  });
  if (proposed) return { decisionId: decision.id, plan, kept, enforcement: "proposed" };
  const enforcement = await applyDecision(tx, decision.id, r.findingId, plan, r.reReviewAt, r.now);
  return { decisionId: decision.id, plan, kept, enforcement };
}

/** A stored proposal, as its caller locked it. */
export type Proposal = Pick<Decision, "id" | "kind" | "findingId" | "reReviewAt" | "keptScopeIds" | "plannedRevokeGrantIds" | "enforcement">;

/**
 * The second half of the two-person rule, for the queue and campaigns alike:
 * the proposal is planned again now and must revoke exactly the grants its
 * proposer saw (else it is stale: 409, reject it and decide again); then it
 * becomes a decision signed by both and goes through the same apply step as a
 * direct one. The caller has locked the subject and checked who may confirm.
 */
export async function confirmProposal(tx: Tx, proposal: Proposal, grant: DecisionGrant, confirmerId: string, now: Date): Promise<RecordedDecision> {
  if (proposal.enforcement !== "proposed") throw conflict("This proposal is no longer waiting for confirmation");
  const { plan, kept } = await replanProposal(tx, proposal, grant, now);
  await tx.decision.update({ where: { id: proposal.id }, data: { awaitingConfirmation: false, confirmerId, enforcement: enforcementFor(plan) } });
  const enforcement = await applyDecision(tx, proposal.id, proposal.findingId, plan, proposal.reReviewAt, now);
  return { decisionId: proposal.id, plan, kept, enforcement };
}

async function replanProposal(tx: Tx, proposal: Proposal, grant: DecisionGrant, now: Date): Promise<PlannedDecision> {
  const stale = (why: string) => conflict(`Stale proposal: ${why}. Reject it and decide again`);
  let planned: PlannedDecision;
  try {
    planned = await planDecision(tx, grant, proposal.kind, proposal.kind === "reduce" ? proposal.keptScopeIds : undefined, now);
  } catch (e) {
    // e.g. a scope the proposal keeps was revoked meanwhile: the proposer's choice no longer exists.
    if (e instanceof AppError && e.code === "bad_request") throw stale(e.message.replace(/^keepScopeIds: /, ""));
    throw e;
  }
  // Review-queue proposals from before migration 0009 have no planned list and are not compared.
  const saw = proposal.plannedRevokeGrantIds;
  if ((saw.length > 0 || proposal.kind === "approve") && !sameGrants(planned.plan.revokeGrantIds, saw)) {
    throw stale(`${grant.principal.displayName}'s scopes on this API changed since it was proposed`);
  }
  return planned;
}
