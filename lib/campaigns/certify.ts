import type { Actor } from "@/lib/auth/actor";
import { assertNotSelfReview, loadTwoPersonRule } from "@/lib/auth/sod";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { AppError, badRequest, conflict, forbidden } from "@/lib/errors";
import type { CertificationDecision, EnforcementState } from "@/lib/generated/prisma/client";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { planDecision, recordDecision, twoPersonRuleCovers, type PlannedDecision } from "@/lib/review/record";
import { parse, requireCertifier } from "./common";
import { isReviewerOf, lockOpenItem, type LockedItem } from "./lock";
import { itemEventData, recordItemOutcome } from "./outcome";
import { proposeItemTx } from "./propose";
import { acceptedJustification, isRisky, recommend } from "./recommend";
import { bulkCertifyInput, CERTIFICATION_TO_DECISION, certifyInput } from "./schemas";

export interface CertifyResult {
  itemId: string;
  decisionId: string;
  decision: CertificationDecision;
  /** Two-person rule: stored as a proposal, nothing applied yet; another reviewer or the owner must confirm it. */
  awaitingConfirmation: boolean;
  enforcement: EnforcementState;
}

export interface ItemDecision {
  item: LockedItem;
  decision: CertificationDecision;
  justification: string | null;
  keepScopeIds?: string[];
  /** The caller's plan, if it made one (the two-person check); planned here otherwise. */
  planned?: PlannedDecision;
  /** The User the Decision row is signed by (a person, or the campaign owner for the close policy). */
  deciderId: string;
  /** Who the audit event names (the person, or the close job). */
  auditActor: Actor;
  closedByPolicy?: boolean;
  flagged?: boolean;
  now: Date;
}

/**
 * Applies one item's decision at once, inside the caller's transaction,
 * through the review loop's decision path (lib/review/record.ts): the Decision
 * row (campaignItemId set), the grant change, closing the revoked grant's open
 * findings, one outbox row per proxy — plus the item's own fields and the
 * audit event. Callers that are people have checked the two-person rule
 * first; the close policy applies directly (docs/ARCHITECTURE.md, Campaigns).
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
    planned: d.planned,
    awaitingConfirmation: false,
    now: d.now,
  });
  const { supersededProposalIds } = await recordItemOutcome(tx, {
    item,
    decision: d.decision,
    justification: d.justification,
    kept,
    plan,
    deciderId: d.deciderId,
    closedByPolicy: d.closedByPolicy,
    flagged: d.flagged,
    now: d.now,
  });
  await appendAuditEvent(tx, {
    actor: d.auditActor,
    action: d.closedByPolicy ? `campaign.close_${d.decision}` : `campaign.item_${d.decision}`,
    target: `campaign_item:${item.id}`,
    data: {
      ...itemEventData(item, decisionId, d.justification),
      revokedGrantIds: plan.revokeGrantIds,
      keptScopeIds: kept,
      flagged: d.flagged ?? false,
      ...(supersededProposalIds.length ? { supersededProposalIds } : {}),
    },
  });
  return { itemId: item.id, decisionId, decision: d.decision, awaitingConfirmation: false, enforcement };
}

type CertifyOne = { itemId: string; decision: CertificationDecision; justification?: string; keepScopeIds?: string[]; acceptRecommendation?: boolean };

/**
 * The justification recorded with a person's decision: their note, or for an accepted recommendation
 * (recomputed here from the item's findings, so a stale chip is a 409) a sentence naming it. Keeping an
 * item with open findings needs a note: that is the decision an auditor asks about.
 */
function justificationFor(item: LockedItem, v: CertifyOne): string | null {
  const note = v.justification?.trim() || null;
  if (v.acceptRecommendation) {
    const rec = recommend(item.openFindings);
    if (!rec || rec.decision !== v.decision) throw conflict(`The recommendation for this item is ${rec ? `to ${rec.decision}` : "gone"}, not to ${v.decision}: reload the list`);
    if (v.keepScopeIds) throw badRequest("keepScopeIds: an accepted reduce keeps the scopes used in the dormancy window", "keepScopeIds");
    return note ?? acceptedJustification(rec);
  }
  if (v.decision === "keep" && isRisky(item.openFindings) && !note) {
    const rules = [...new Set(item.openFindings.map((f) => f.rule.replaceAll("_", " ")))].join(", ");
    throw badRequest(`justification: keeping an item with open findings (${rules}) needs a note saying why the access is still needed`, "justification");
  }
  return note;
}

/** lock → on the caller's list → no proposal pending → SoD → (propose | apply), in one transaction. */
async function certifyOne(actor: Actor, v: CertifyOne, client: PrismaClient): Promise<CertifyResult> {
  const person = requireCertifier(actor);
  const result = await client.$transaction(async (tx) => {
    const item = await lockOpenItem(tx, v.itemId);
    if (!(await isReviewerOf(tx, item.id, person.userId))) throw forbidden("This item is not on your certification list");
    if (item.proposal) throw conflict("This item already has a proposed decision awaiting a second reviewer: confirm or reject it first");
    await assertNotSelfReview(tx, person, item.grantId);
    const justification = justificationFor(item, v);
    const now = new Date();
    const planned = await planDecision(tx, item.grant, CERTIFICATION_TO_DECISION[v.decision], v.keepScopeIds, now);
    if (await twoPersonRuleCovers(tx, item.grant, planned.plan, await loadTwoPersonRule(tx))) {
      return proposeItemTx(tx, { item, decision: v.decision, justification, keepScopeIds: v.keepScopeIds, planned, person, now });
    }
    return decideItemTx(tx, { item, decision: v.decision, justification, keepScopeIds: v.keepScopeIds, planned, deciderId: person.userId, auditActor: person, now });
  });
  if (result.enforcement === "pending") wakeDelivery();
  return result;
}

/** Keep, revoke or reduce one item on the caller's list (a proposal when the two-person rule covers its grant). */
export async function certifyItem(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<CertifyResult> {
  requireCertifier(actor);
  return certifyOne(actor, parse(certifyInput, input), client);
}

export interface BulkCertifyResult {
  /** Applied at once. */
  decided: CertifyResult[];
  /** Stored as proposals under the two-person rule: nothing applied until someone else confirms. */
  proposed: CertifyResult[];
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
  const result: BulkCertifyResult = { decided: [], proposed: [], failed: [] };
  for (const itemId of new Set(v.itemIds)) {
    try {
      const r = await certifyOne(actor, { itemId, decision: v.decision, justification: v.notes?.[itemId] || v.justification }, client);
      (r.awaitingConfirmation ? result.proposed : result.decided).push(r);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      result.failed.push({ itemId, code: e.code, message: e.message });
    }
  }
  return result;
}
