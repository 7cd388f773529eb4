import type { Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { withLongWorkSlot } from "@/lib/db/long-work";
import { badRequest, notFound } from "@/lib/errors";
import { parse, requireManager } from "./common";
import { LAUNCH_CONFIRM_ABOVE, snapshotItems, type Scope } from "./launch";
import { assignReviewers } from "./reviewers";
import { campaignIdInput } from "./schemas";

export interface LaunchPreview {
  itemCount: number;
  /** Items whose rule found nobody eligible: the campaign owner reviews them. */
  ownerFallback: number;
  /** One row per reviewer, most items first (an item can be on several lists under owning_team). */
  perReviewer: { email: string; name: string; source: string; items: number }[];
  /** The launch must name itemCount to go ahead (lib/campaigns/launch.ts). */
  needsConfirmation: boolean;
  confirmAbove: number;
}

/** Thrown inside the dry run's transaction so everything it wrote is rolled back. */
class DryRun extends Error {
  constructor(readonly preview: LaunchPreview) {
    super("dry run");
  }
}

/**
 * The launch as a dry run: the same snapshot and reviewer assignment the launch would make,
 * counted and rolled back, so the preview cannot disagree with what launching creates
 * (short of grants changing in between; the launch re-checks the count it was shown).
 */
export async function previewLaunch(actor: Actor, input: unknown, client: PrismaClient = db(), now: Date = new Date()): Promise<LaunchPreview> {
  requireManager(actor);
  const { campaignId } = parse(campaignIdInput, input);
  const campaign = await client.campaign.findUnique({ where: { id: campaignId } });
  if (!campaign) throw notFound("Campaign");
  if (campaign.status !== "draft") throw badRequest("campaignId: only a draft campaign has a launch preview", "campaignId");
  try {
    await withLongWorkSlot(() =>
      client.$transaction(
        async (tx) => {
          await snapshotItems(tx, campaignId, campaign.scope as unknown as Scope, now);
          await assignReviewers(tx, campaign);
          const [counts] = await tx.$queryRawUnsafe<{ items: number; fallback: number }[]>(
            `SELECT count(*)::int AS items,
                    count(*) FILTER (WHERE EXISTS (SELECT 1 FROM "CampaignItemReviewer" r WHERE r."itemId" = ci.id AND r.source = 'owner_fallback'))::int AS fallback
             FROM "CampaignItem" ci WHERE ci."campaignId" = $1::uuid`,
            campaignId,
          );
          const perReviewer = await tx.$queryRawUnsafe<LaunchPreview["perReviewer"]>(
            `SELECT u.email, u.name, r.source::text AS source, count(*)::int AS items
             FROM "CampaignItemReviewer" r JOIN "CampaignItem" ci ON ci.id = r."itemId" JOIN "User" u ON u.id = r."userId"
             WHERE ci."campaignId" = $1::uuid GROUP BY u.email, u.name, r.source ORDER BY 4 DESC, 1`,
            campaignId,
          );
          throw new DryRun({
            itemCount: counts.items,
            ownerFallback: counts.fallback,
            perReviewer,
            needsConfirmation: counts.items > LAUNCH_CONFIRM_ABOVE,
            confirmAbove: LAUNCH_CONFIRM_ABOVE,
          });
        },
        { timeout: 120_000, maxWait: 10_000 },
      ),
    );
  } catch (e) {
    if (e instanceof DryRun) return e.preview;
    throw e;
  }
  throw new Error("unreachable: the dry run always rolls back");
}
