import type { Actor } from "@/lib/auth/actor";
import { assertNotSelfReview } from "@/lib/auth/sod";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { conflict, forbidden, notFound } from "@/lib/errors";
import type { Decision } from "@/lib/generated/prisma/client";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { createNotifications } from "@/lib/notifications";
import { confirmProposal } from "@/lib/review/record";
import type { CertifyResult } from "./certify";
import { parse, requireCertifier, type UserActor } from "./common";
import { isReviewerOf, lockOpenItem, type LockedItem } from "./lock";
import { DECISION_TO_CERTIFICATION, discardFields, itemEventData, recordItemOutcome } from "./outcome";
import { confirmItemInput, rejectItemInput } from "./schemas";

/**
 * The second half of the two-person rule for campaign items (./propose.ts).
 *
 * Who may confirm or reject: another reviewer on the item's list, or the
 * campaign's owner — the people already accountable for that item. Not any
 * admin: holding a role is not knowing the access. Never the proposer (403),
 * and never anyone about their own access or a credential they own
 * (assertNotSelfReview, 403). A confirmation re-plans the decision and
 * applies it through the same path as a direct one (confirmProposal,
 * lib/review/record.ts); if the grant or the
 * principal's scopes on the API changed since the proposal, it is stale (409)
 * and must be rejected and decided again.
 */


async function lockProposal(tx: Tx, person: UserActor, decisionId: string): Promise<{ item: LockedItem; proposal: Decision }> {
  const ref = await tx.decision.findUnique({ where: { id: decisionId }, select: { campaignItemId: true } });
  if (!ref?.campaignItemId) throw notFound("Proposal");
  const item = await lockOpenItem(tx, ref.campaignItemId, { allowInactiveGrant: true });
  const proposal = await tx.decision.findUniqueOrThrow({ where: { id: decisionId } });
  if (proposal.enforcement !== "proposed" || item.proposal?.id !== proposal.id) throw conflict("This proposal is no longer waiting for confirmation");
  if (proposal.deciderId === person.userId) throw forbidden("Two-person rule: someone other than the proposer must confirm or reject this decision");
  if (item.ownerId !== person.userId && !(await isReviewerOf(tx, item.id, person.userId))) {
    throw forbidden("Only another reviewer of this item, or the campaign owner, can confirm or reject its proposal");
  }
  await assertNotSelfReview(tx, person, item.grantId);
  return { item, proposal };
}

export interface ConfirmItemResult extends CertifyResult {
  proposedById: string;
}

/** A second person confirms a proposed keep/revoke/reduce: applied now, exactly as a direct decision would be. */
export async function confirmItemDecision(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<ConfirmItemResult> {
  const person = requireCertifier(actor);
  const { decisionId } = parse(confirmItemInput, input);
  const result = await client.$transaction(async (tx) => {
    const now = new Date();
    const { item, proposal } = await lockProposal(tx, person, decisionId);
    // The grant went elsewhere meanwhile (e.g. an off-boarding): nothing left to confirm.
    if (item.grantStatus !== "active") throw conflict(`Stale proposal: the grant is now ${item.grantStatus}. Reject the proposal`);
    const { plan, enforcement } = await confirmProposal(tx, proposal, item.grant, person.userId, now);
    const decision = DECISION_TO_CERTIFICATION[proposal.kind];
    const justification = proposal.justification;
    const { supersededProposalIds } = await recordItemOutcome(tx, {
      item,
      decision,
      justification,
      kept: proposal.keptScopeIds,
      plan,
      deciderId: proposal.deciderId,
      confirmedById: person.userId,
      now,
    });
    await appendAuditEvent(tx, {
      actor: person,
      action: `campaign.item_confirm_${decision}`,
      target: `campaign_item:${item.id}`,
      data: {
        ...itemEventData(item, decisionId, justification),
        proposedBy: proposal.deciderId,
        revokedGrantIds: plan.revokeGrantIds,
        keptScopeIds: proposal.keptScopeIds,
        ...(supersededProposalIds.length ? { supersededProposalIds } : {}),
      },
    });
    return { itemId: item.id, decisionId, decision, awaitingConfirmation: false, enforcement, proposedById: proposal.deciderId };
  });
  if (result.enforcement === "pending") wakeDelivery();
  return result;
}

export interface RejectItemResult {
  itemId: string;
  decisionId: string;
}

/**
 * A second person rejects a proposal: nothing was applied, the item is
 * undecided again (for anyone on its list, the proposer included, to decide
 * anew), the proposal is kept as history with the reason, and the proposer is told.
 */
export async function rejectItemProposal(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<RejectItemResult> {
  const person = requireCertifier(actor);
  const v = parse(rejectItemInput, input);
  return client.$transaction(async (tx) => {
    const now = new Date();
    const { item, proposal } = await lockProposal(tx, person, v.decisionId);
    await tx.decision.update({ where: { id: proposal.id }, data: discardFields("rejected", v.justification, now, person.userId) });
    const decision = DECISION_TO_CERTIFICATION[proposal.kind];
    const reason = v.justification.length > 200 ? `${v.justification.slice(0, 199)}…` : v.justification;
    await createNotifications(tx, [
      {
        userId: proposal.deciderId,
        kind: "campaign.proposal_rejected",
        message: `${person.name} rejected your proposed ${decision} of ${item.grant.principal.displayName} · ${item.grant.scope.name} in "${item.campaignName}": ${reason}`,
        link: `/certifications?campaign=${item.campaignId}`,
        createdAt: now,
      },
    ]);
    await appendAuditEvent(tx, {
      actor: person,
      action: `campaign.item_reject_${decision}`,
      target: `campaign_item:${item.id}`,
      data: { ...itemEventData(item, proposal.id, v.justification), proposedBy: proposal.deciderId },
    });
    return { itemId: item.id, decisionId: proposal.id };
  });
}
