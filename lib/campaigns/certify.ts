import type { Actor } from "@/lib/auth/actor";
import { assertNotSelfReview } from "@/lib/auth/sod";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { AppError, forbidden } from "@/lib/errors";
import type { CertificationDecision, EnforcementState } from "@/lib/generated/prisma/client";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { recordDecision } from "@/lib/review/record";
import { parse, requireCertifier } from "./common";
import { isReviewerOf, lockOpenItem, type LockedItem } from "./lock";
import { bulkCertifyInput, CERTIFICATION_TO_DECISION, certifyInput } from "./schemas";

export interface CertifyResult {
  itemId: string;
  decisionId: string;
  decision: CertificationDecision;
  enforcement: EnforcementState;
}

export interface ItemDecision {
  item: LockedItem;
  decision: CertificationDecision;
  justification: string;
  keepScopeIds?: string[];
  /** The User the Decision row is signed by (a person, or the campaign owner for the close policy). */
  deciderId: string;
  /** Who the audit event names (the person, or the close job). */
  auditActor: Actor;
  closedByPolicy?: boolean;
  flagged?: boolean;
  now: Date;
}

/**
 * Carries out one item's decision inside the caller's transaction through the
 * review loop's decision path (lib/review/record.ts): the Decision row
 * (campaignItemId set), the grant change, closing the revoked grant's open
 * findings, one outbox row per proxy — plus the item's own fields and the
 * audit event. Items of the same campaign whose grants a reduce removed are
 * marked decided too, so nobody is asked to certify a grant that is gone.
 */
export async function decideItemTx(tx: Tx, d: ItemDecision): Promise<CertifyResult> {
  const { item } = d;
  const { decisionId, plan, kept, enforcement } = await recordDecision(tx, {
    deciderId: d.deciderId,
    grant: item.grant,
    findingId: null,
    campaignItemId: item.id,
    kind: CERTIFICATION_TO_DECISION[d.decision],
    justification: d.justification,
    reReviewAt: null,
    keepScopeIds: d.keepScopeIds,
    // Certification is itself the accountable control, signed off per reviewer; see docs/ARCHITECTURE.md.
    awaitingConfirmation: false,
    now: d.now,
  });
  await tx.campaignItem.update({
    where: { id: item.id },
    data: {
      decision: d.decision,
      justification: d.justification,
      keptScopeIds: kept,
      decidedAt: d.now,
      decidedById: d.deciderId,
      closedByPolicy: d.closedByPolicy ?? false,
      flagged: d.flagged ?? false,
    },
  });
  if (d.decision === "reduce") {
    await tx.campaignItem.updateMany({
      where: { campaignId: item.campaignId, grantId: { in: plan.revokeGrantIds }, decision: null, id: { not: item.id } },
      data: { decision: "revoke", justification: `Removed by the reduce decision on item ${item.id}`, decidedAt: d.now, decidedById: d.deciderId },
    });
  }
  await appendAuditEvent(tx, {
    actor: d.auditActor,
    action: d.closedByPolicy ? `campaign.close_${d.decision}` : `campaign.item_${d.decision}`,
    target: `campaign_item:${item.id}`,
    data: {
      campaignId: item.campaignId,
      decisionId,
      grantId: item.grantId,
      principal: item.grant.principal.displayName,
      scope: item.grant.scope.name,
      environment: item.grant.environment.name,
      justification: d.justification,
      revokedGrantIds: plan.revokeGrantIds,
      keptScopeIds: kept,
      flagged: d.flagged ?? false,
    },
  });
  return { itemId: item.id, decisionId, decision: d.decision, enforcement };
}

async function certifyOne(actor: Actor, v: { itemId: string; decision: CertificationDecision; justification: string; keepScopeIds?: string[] }, client: PrismaClient): Promise<CertifyResult> {
  const person = requireCertifier(actor);
  const result = await client.$transaction(async (tx) => {
    const item = await lockOpenItem(tx, v.itemId);
    if (!(await isReviewerOf(tx, item.id, person.userId))) throw forbidden("This item is not on your certification list");
    await assertNotSelfReview(tx, person, item.grantId);
    return decideItemTx(tx, { item, decision: v.decision, justification: v.justification, keepScopeIds: v.keepScopeIds, deciderId: person.userId, auditActor: person, now: new Date() });
  });
  if (result.enforcement === "pending") wakeDelivery();
  return result;
}

/** Keep, revoke or reduce one item on the caller's list. */
export async function certifyItem(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<CertifyResult> {
  requireCertifier(actor);
  return certifyOne(actor, parse(certifyInput, input), client);
}

export interface BulkCertifyResult {
  decided: CertifyResult[];
  failed: { itemId: string; code: string; message: string }[];
}

/**
 * Bulk runs the single-item path once per item, each in its own transaction:
 * an item a colleague decided meanwhile (409) or one about the caller's own
 * access (403) is reported on its row and does not undo the others.
 */
export async function bulkCertify(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<BulkCertifyResult> {
  requireCertifier(actor);
  const v = parse(bulkCertifyInput, input);
  const result: BulkCertifyResult = { decided: [], failed: [] };
  for (const itemId of new Set(v.itemIds)) {
    try {
      result.decided.push(await certifyOne(actor, { itemId, decision: v.decision, justification: v.justification }, client));
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      result.failed.push({ itemId, code: e.code, message: e.message });
    }
  }
  return result;
}
