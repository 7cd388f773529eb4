import type { Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { badRequest } from "@/lib/errors";
import { CERTIFIER_ROLES, parse, requireManager } from "./common";
import { createCampaignInput, type CreateCampaignInput } from "./schemas";

export interface CreatedCampaign {
  id: string;
  name: string;
  period: string;
}

/** Every id the form sent must exist; a stale or forged one is a 400 naming its field. */
async function checkReferences(tx: Tx, v: CreateCampaignInput) {
  // One after the other: a transaction is one connection, where pg 8 only queues concurrent queries (and pg 9 refuses them).
  const apis = await tx.api.count({ where: { id: { in: v.apiIds } } });
  const envs = await tx.environment.count({ where: { id: { in: v.environmentIds } } });
  const teams = await tx.team.count({ where: { id: { in: v.teamIds } } });
  if (apis !== new Set(v.apiIds).size) throw badRequest("apiIds: an API no longer exists", "apiIds");
  if (envs !== new Set(v.environmentIds).size) throw badRequest("environmentIds: an environment no longer exists", "environmentIds");
  if (teams !== new Set(v.teamIds).size) throw badRequest("teamIds: a team no longer exists", "teamIds");
  const people = [...new Set([...v.namedReviewerIds, ...(v.fallbackReviewerId ? [v.fallbackReviewerId] : [])])];
  const certifiers = await tx.user.findMany({ where: { id: { in: people }, roles: { hasSome: CERTIFIER_ROLES } }, select: { id: true } });
  const ok = new Set(certifiers.map((u) => u.id));
  if (v.namedReviewerIds.some((id) => !ok.has(id))) throw badRequest("namedReviewerIds: every named reviewer must be a manager or reviewer", "namedReviewerIds");
  if (v.fallbackReviewerId && !ok.has(v.fallbackReviewerId)) throw badRequest("fallbackReviewerId: the fallback reviewer must be a manager or reviewer", "fallbackReviewerId");
}

/** Creates a draft campaign owned by the calling admin (or, for a job, by `ownerId`). */
export async function createCampaign(actor: Actor, input: unknown, client: PrismaClient = db(), opts: { now?: Date; ownerId?: string; seriesId?: string } = {}): Promise<CreatedCampaign> {
  requireManager(actor);
  const v = parse(createCampaignInput, input);
  const now = opts.now ?? new Date();
  if (v.dueAt.getTime() <= now.getTime()) throw badRequest("dueAt: the due date must be in the future", "dueAt");
  const ownerId = actor.kind === "user" ? actor.userId : opts.ownerId;
  if (!ownerId) throw badRequest("ownerId: a campaign needs an owner", "ownerId");
  return client.$transaction(async (tx) => {
    await checkReferences(tx, v);
    const campaign = await tx.campaign.create({
      data: {
        name: v.name,
        period: v.period,
        scope: { apiIds: v.apiIds, environmentIds: v.environmentIds, teamIds: v.teamIds },
        reviewerRule: v.reviewerRule,
        namedReviewerIds: v.namedReviewerIds,
        closePolicy: v.closePolicy,
        fallbackReviewerId: v.fallbackReviewerId ?? null,
        fallbackDays: v.fallbackDays,
        dueAt: v.dueAt,
        ownerId,
        recurrence: v.recurrence,
        seriesId: opts.seriesId,
      },
    });
    // A recurring series is named after its first campaign.
    if (v.recurrence === "quarterly" && !opts.seriesId) await tx.campaign.update({ where: { id: campaign.id }, data: { seriesId: campaign.id } });
    await appendAuditEvent(tx, {
      actor,
      action: "campaign.create",
      target: `campaign:${campaign.id}`,
      data: { name: v.name, period: v.period, scope: campaign.scope, reviewerRule: v.reviewerRule, closePolicy: v.closePolicy, dueAt: v.dueAt.toISOString(), recurrence: v.recurrence },
    });
    return { id: campaign.id, name: campaign.name, period: campaign.period };
  });
}
