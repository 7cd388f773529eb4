import type { Tx } from "@/lib/db";
import type { DecisionKind, EnforcementState } from "@/lib/generated/prisma/client";
import { enqueueBatch, type BatchOp } from "@/lib/enforcement/outbox";

export interface DecisionPlan {
  kind: DecisionKind;
  /** Proxies serving the grant's environment (see proxyTargets). */
  proxyIds: string[];
  /** Grants the decision revokes (revoke: the finding's grant; reduce: the dropped siblings). */
  revokeGrantIds: string[];
}

const FINDING_STATUS = { approve: "approved", revoke: "revoked", reduce: "reduced" } as const;

/**
 * Carries out a decision inside the caller's transaction: the grant change,
 * the finding's new status (queue decisions; campaign decisions have no
 * finding), closing the other open findings of revoked grants, and one outbox
 * row per proxy of the environment. Returns the enforcement state.
 */
export async function applyDecision(
  tx: Tx,
  decisionId: string,
  findingId: string | null,
  plan: DecisionPlan,
  reReviewAt: Date | null,
  now: Date,
): Promise<EnforcementState> {
  if (findingId) {
    const updated = await tx.finding.updateMany({
      where: { id: findingId, status: "open" },
      data: {
        status: FINDING_STATUS[plan.kind],
        closedAt: now,
        closedReason: `Decision ${decisionId}`,
        reReviewAt: plan.kind === "approve" ? reReviewAt : null,
      },
    });
    // lockOpenFinding holds the row lock, so this only guards against misuse.
    if (updated.count !== 1) throw new Error("finding changed while locked");
  }

  let targets = 0;
  if (plan.revokeGrantIds.length > 0) {
    const revoked = await tx.grant.updateMany({
      where: { id: { in: plan.revokeGrantIds }, status: "active" },
      data: { status: "revoked", revokedAt: now },
    });
    if (revoked.count !== plan.revokeGrantIds.length) throw new Error("grant changed while deciding");
    await tx.finding.updateMany({
      where: { grantId: { in: plan.revokeGrantIds }, status: "open" },
      data: { status: "closed", closedAt: now, closedReason: `Grant revoked by decision ${decisionId}` },
    });
    const ops: BatchOp[] = plan.revokeGrantIds.map((id) => ({ op: "delete", kind: "grant", id }));
    targets = await enqueueBatch(tx, decisionId, plan.proxyIds, ops);
  }
  return enforcementFor(plan) === "pending" && targets === 0 ? "not_required" : enforcementFor(plan);
}

/** A decision needs enforcement when it removes grants from an environment some proxy serves. */
export function enforcementFor(plan: DecisionPlan): EnforcementState {
  return plan.revokeGrantIds.length > 0 && plan.proxyIds.length > 0 ? "pending" : "not_required";
}
