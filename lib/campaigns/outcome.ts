import type { Tx } from "@/lib/db";
import type { CertificationDecision, ProposalDiscard } from "@/lib/generated/prisma/client";
import type { DecisionPlan } from "@/lib/review/apply";
import type { LockedItem } from "./lock";

export const DECISION_TO_CERTIFICATION = { approve: "keep", revoke: "revoke", reduce: "reduce" } as const;

export interface ItemOutcome {
  item: LockedItem;
  decision: CertificationDecision;
  /** The certifier's note; null when they wrote none (allowed unless they keep an item with open findings). */
  justification: string | null;
  kept: string[];
  plan: DecisionPlan;
  /** Whose judgement it was (the certifier, the proposer of a confirmed decision, or the owner for the close policy). */
  deciderId: string;
  /** Two-person rule: the second person who confirmed it. */
  confirmedById?: string | null;
  closedByPolicy?: boolean;
  flagged?: boolean;
  now: Date;
}

/** What every campaign-item audit event says about the item: whose access, which grant, under which decision. */
export function itemEventData(item: LockedItem, decisionId: string, justification: string | null) {
  return {
    campaignId: item.campaignId,
    decisionId,
    grantId: item.grantId,
    principal: item.grant.principal.displayName,
    scope: item.grant.scope.name,
    environment: item.grant.environment.name,
    justification,
  };
}

/** Fields that end a proposal without applying it; nothing will be enforced for it. */
export function discardFields(kind: ProposalDiscard, note: string, now: Date, byId: string | null) {
  return { awaitingConfirmation: false, discard: kind, discardedAt: now, discardedById: byId, discardNote: note, enforcement: "not_required" as const };
}

/**
 * Writes an applied decision onto its item (after the grant change). Items of
 * the same campaign whose grants a reduce removed are marked decided too, so
 * nobody is asked to certify a grant that is gone; a proposal waiting on one
 * of them is superseded. Returns the ids of those superseded proposals.
 */
export async function recordItemOutcome(tx: Tx, o: ItemOutcome): Promise<{ supersededProposalIds: string[] }> {
  const { item } = o;
  await tx.campaignItem.update({
    where: { id: item.id },
    data: {
      decision: o.decision,
      justification: o.justification,
      keptScopeIds: o.kept,
      decidedAt: o.now,
      decidedById: o.deciderId,
      confirmedById: o.confirmedById ?? null,
      closedByPolicy: o.closedByPolicy ?? false,
      flagged: o.flagged ?? false,
    },
  });
  if (o.decision !== "reduce" || o.plan.revokeGrantIds.length === 0) return { supersededProposalIds: [] };
  const siblings = await tx.campaignItem.findMany({
    where: { campaignId: item.campaignId, grantId: { in: o.plan.revokeGrantIds }, decision: null, id: { not: item.id } },
    select: { id: true },
  });
  if (siblings.length === 0) return { supersededProposalIds: [] };
  const siblingIds = siblings.map((s) => s.id);
  const proposals = await tx.decision.findMany({ where: { campaignItemId: { in: siblingIds }, awaitingConfirmation: true }, select: { id: true } });
  if (proposals.length > 0) {
    await tx.decision.updateMany({
      where: { id: { in: proposals.map((p) => p.id) } },
      data: discardFields("superseded", `Its grant was removed by the reduce decision on item ${item.id}`, o.now, null),
    });
  }
  await tx.campaignItem.updateMany({
    where: { id: { in: siblingIds } },
    data: { decision: "revoke", justification: `Removed by the reduce decision on item ${item.id}`, decidedAt: o.now, decidedById: o.deciderId, confirmedById: o.confirmedById ?? null },
  });
  return { supersededProposalIds: proposals.map((p) => p.id) };
}
