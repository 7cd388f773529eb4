import type { Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { badRequest, forbidden, notFound } from "@/lib/errors";
import { createNotifications } from "@/lib/notifications";
import { CERTIFIER_ROLES, parse, requireCertifier } from "./common";
import { isReviewerOf, lockOpenItem } from "./lock";
import { delegateInput } from "./schemas";

export interface DelegateResult {
  delegated: number;
  toUserId: string;
}

/**
 * Hands items (one, or a whole group of the caller's list) to another manager
 * or reviewer, all or nothing: the caller leaves those items' lists and the
 * delegate joins them (source "delegated", delegatedFrom = caller). The
 * delegate must be allowed to decide every item (separation of duties), else
 * a 400 names the first item they could not take.
 */
export async function delegateItems(actor: Actor, input: unknown, client: PrismaClient = db(), now: Date = new Date()): Promise<DelegateResult> {
  const person = requireCertifier(actor);
  const v = parse(delegateInput, input);
  if (v.toUserId === person.userId) throw badRequest("toUserId: choose someone other than yourself", "toUserId");
  return client.$transaction(async (tx) => {
    const to = await tx.user.findUnique({ where: { id: v.toUserId }, select: { id: true, email: true, roles: true, principalId: true } });
    if (!to) throw notFound("Delegate");
    if (!to.roles.some((r) => CERTIFIER_ROLES.includes(r))) throw badRequest("toUserId: the delegate must be a manager or reviewer", "toUserId");
    const ids = [...new Set(v.itemIds)].sort(); // a stable lock order: two delegations never deadlock
    const campaigns = new Map<string, string>();
    for (const itemId of ids) {
      const item = await lockOpenItem(tx, itemId, { allowInactiveGrant: true });
      if (!(await isReviewerOf(tx, itemId, person.userId))) throw forbidden("You can only delegate items on your own certification list");
      if (to.principalId && (to.principalId === item.principalId || (item.principalKind !== "user" && (await ownerOf(tx, item.principalId)) === to.principalId))) {
        throw badRequest(`toUserId: separation of duties — the delegate cannot certify item ${itemId} (their own access)`, "toUserId");
      }
      await tx.campaignItemReviewer.delete({ where: { itemId_userId: { itemId, userId: person.userId } } });
      await tx.campaignItemReviewer.upsert({
        where: { itemId_userId: { itemId, userId: to.id } },
        create: { itemId, userId: to.id, source: "delegated", delegatedFromId: person.userId, assignedAt: now },
        update: {},
      });
      campaigns.set(item.campaignId, item.campaignName);
    }
    await createNotifications(
      tx,
      [...campaigns].map(([campaignId, name]) => ({
        userId: to.id,
        kind: "campaign.delegated",
        message: `${person.name} delegated ${ids.length} item(s) of "${name}" to you`,
        link: `/certifications?campaign=${campaignId}`,
        createdAt: now,
      })),
    );
    await appendAuditEvent(tx, {
      actor: person,
      action: "campaign.delegate",
      target: `user:${to.id}`,
      data: { itemIds: ids, to: to.email, campaignIds: [...campaigns.keys()] },
    });
    return { delegated: ids.length, toUserId: to.id };
  });
}

async function ownerOf(tx: Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0], principalId: string): Promise<string | null> {
  const p = await tx.principal.findUnique({ where: { id: principalId }, select: { managerId: true } });
  return p?.managerId ?? null;
}
