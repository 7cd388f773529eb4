import { systemActor, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { AppError, conflict, notFound } from "@/lib/errors";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { decideItemTx } from "./certify";
import { parse, requireManager } from "./common";
import { lockOpenItem } from "./lock";
import { discardFields } from "./outcome";
import { campaignIdInput } from "./schemas";

export interface CloseResult {
  campaignId: string;
  /** Items the close policy decided (revoked, or kept and flagged). */
  applied: number;
  alreadyInactive: number;
}

const POLICY_JUSTIFICATION = {
  revoke: "Not certified by the close of the campaign: revoked by its close policy",
  keep_and_flag: "Not certified by the close of the campaign: kept and flagged by its close policy",
} as const;

/**
 * Applies the close policy to every item nobody decided — each through the
 * normal decision and enforcement path, in its own transaction, signed by the
 * campaign owner who chose the policy — then freezes the campaign. Safe to
 * re-run after a crash: decided items are skipped, and the campaign is only
 * marked closed once no undecided item is left.
 *
 * Two-person rule: an item whose proposal nobody confirmed by the close is
 * undecided, so the policy decides it like any other; the proposal is marked
 * superseded (one person's judgement never takes effect alone). The policy's
 * own decision applies directly: it is the rule the owner set when creating
 * the campaign, not one person's judgement of this grant, and an unanswered
 * item must not stay open because nobody confirmed it.
 */
export async function applyClosePolicy(client: PrismaClient, campaignId: string, now: Date, auditActor: Actor = systemActor("campaign-close")): Promise<CloseResult> {
  const campaign = await client.campaign.findUnique({ where: { id: campaignId }, select: { ownerId: true, closePolicy: true, status: true } });
  if (!campaign) throw notFound("Campaign");
  if (campaign.status === "closed") throw conflict("This campaign is already closed");
  let applied = 0;
  let alreadyInactive = 0;
  let wake = false;
  const pending = await client.campaignItem.findMany({ where: { campaignId, decision: null }, select: { id: true }, orderBy: { id: "asc" } });
  for (const { id } of pending) {
    try {
      const r = await client.$transaction(async (tx) => {
        const item = await lockOpenItem(tx, id, { allowInactiveGrant: true });
        if (item.proposal) {
          await tx.decision.update({ where: { id: item.proposal.id }, data: discardFields("superseded", `Not confirmed by the close of the campaign: superseded by its close policy (${campaign.closePolicy})`, now, null) });
          await appendAuditEvent(tx, {
            actor: auditActor,
            action: "campaign.item_proposal_superseded",
            target: `campaign_item:${id}`,
            data: { campaignId, decisionId: item.proposal.id, proposedBy: item.proposal.deciderId, policy: campaign.closePolicy },
          });
        }
        if (item.grantStatus !== "active") {
          // Revoked or expired meanwhile (e.g. from the review queue): nothing left to enforce.
          await tx.campaignItem.update({
            where: { id },
            data: { decision: "revoke", justification: `The grant was already ${item.grantStatus} at close`, decidedAt: now, decidedById: campaign.ownerId, closedByPolicy: true },
          });
          return "inactive" as const;
        }
        const policy = campaign.closePolicy;
        return decideItemTx(tx, {
          item,
          decision: policy === "revoke" ? "revoke" : "keep",
          justification: POLICY_JUSTIFICATION[policy],
          deciderId: campaign.ownerId,
          auditActor,
          closedByPolicy: true,
          flagged: policy === "keep_and_flag",
          now,
        });
      });
      if (r === "inactive") alreadyInactive++;
      else {
        applied++;
        if (r.enforcement === "pending") wake = true;
      }
    } catch (e) {
      // Decided by a reviewer between the list and the lock: theirs stands.
      if (!(e instanceof AppError && e.code === "conflict")) throw e;
    }
  }
  if (wake) wakeDelivery();
  await client.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ status: string }[]>`SELECT status::text FROM "Campaign" WHERE id = ${campaignId}::uuid FOR UPDATE`;
    if (row.status === "closed") return;
    const left = await tx.campaignItem.count({ where: { campaignId, decision: null } });
    if (left > 0) throw conflict(`${left} item(s) are still undecided; run the close again`);
    await tx.campaign.update({ where: { id: campaignId }, data: { status: "closed", closedAt: now } });
    await appendAuditEvent(tx, { actor: auditActor, action: "campaign.close", target: `campaign:${campaignId}`, data: { policy: campaign.closePolicy, applied, alreadyInactive } });
  });
  return { campaignId, applied, alreadyInactive };
}

/** An admin closes a campaign now (no fallback round): the close policy applies to what is left. */
export async function closeCampaign(actor: Actor, input: unknown, client: PrismaClient = db(), now: Date = new Date()): Promise<CloseResult> {
  requireManager(actor);
  const { campaignId } = parse(campaignIdInput, input);
  const c = await client.campaign.findUnique({ where: { id: campaignId }, select: { status: true } });
  if (!c) throw notFound("Campaign");
  if (c.status === "draft") throw conflict("Launch the campaign before closing it");
  if (c.status === "closed") throw conflict("This campaign is already closed");
  return applyClosePolicy(client, campaignId, now, actor);
}
