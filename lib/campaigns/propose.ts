import { appendAuditEvent } from "@/lib/audit";
import type { Tx } from "@/lib/db";
import type { CertificationDecision } from "@/lib/generated/prisma/client";
import { createNotifications } from "@/lib/notifications";
import { recordDecision, type PlannedDecision } from "@/lib/review/record";
import type { CertifyResult } from "./certify";
import type { UserActor } from "./common";
import type { LockedItem } from "./lock";
import { itemEventData } from "./outcome";
import { CERTIFICATION_TO_DECISION } from "./schemas";

export interface ItemProposal {
  item: LockedItem;
  decision: CertificationDecision;
  justification: string | null;
  keepScopeIds?: string[];
  /** Made by the caller for the two-person check. */
  planned: PlannedDecision;
  person: UserActor;
  now: Date;
}

/**
 * Two-person rule (lib/auth/sod.ts): the certifier's decision is stored as a
 * proposal — the item's Decision row with awaitingConfirmation, planned but
 * not applied (no grant change, no outbox row) — and the item stays
 * undecided until someone else confirms it (./confirm.ts). The people who
 * may confirm it (the item's other reviewers and the campaign owner) are
 * notified, at most once a day per campaign, so bulk proposals do not flood them.
 */
export async function proposeItemTx(tx: Tx, p: ItemProposal): Promise<CertifyResult> {
  const { item, person } = p;
  const { decisionId, plan, kept, enforcement } = await recordDecision(tx, {
    deciderId: person.userId,
    grant: item.grant,
    findingId: null,
    campaignItemId: item.id,
    kind: CERTIFICATION_TO_DECISION[p.decision],
    justification: p.justification,
    reReviewAt: null,
    keepScopeIds: p.keepScopeIds,
    planned: p.planned,
    awaitingConfirmation: true,
    now: p.now,
  });
  const others = await tx.campaignItemReviewer.findMany({ where: { itemId: item.id, userId: { not: person.userId } }, select: { userId: true } });
  const confirmers = new Set([...others.map((r) => r.userId), item.ownerId]);
  confirmers.delete(person.userId);
  const day = p.now.toISOString().slice(0, 10);
  await createNotifications(
    tx,
    [...confirmers].map((userId) => ({
      userId,
      kind: "campaign.awaiting_confirmation",
      message: `${person.name} proposed decisions in "${item.campaignName}" that need a second reviewer (two-person rule)`,
      link: `/certifications?campaign=${item.campaignId}&status=awaiting`,
      dedupeKey: `confirm:${item.campaignId}:${userId}:${day}`,
      createdAt: p.now,
    })),
  );
  await appendAuditEvent(tx, {
    actor: person,
    action: `campaign.item_propose_${p.decision}`,
    target: `campaign_item:${item.id}`,
    data: {
      ...itemEventData(item, decisionId, p.justification),
      plannedRevokeGrantIds: plan.revokeGrantIds,
      keptScopeIds: kept,
      awaitingConfirmation: true,
    },
  });
  return { itemId: item.id, decisionId, decision: p.decision, awaitingConfirmation: true, enforcement };
}
