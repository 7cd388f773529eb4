import type { Tx } from "@/lib/db";

/**
 * Reviewer assignment at launch, set-based (docs/ARCHITECTURE.md, Campaigns):
 * - manager: the User linked to the principal's manager (User.principalId).
 *   A service account or API key is certified by its owner's manager, because
 *   its owner (managerId) may not certify their own credential.
 * - owning_team: every manager or reviewer whose person principal belongs to
 *   the API's owning team; the first to decide takes the item off every list.
 * - named: the campaign's named reviewers.
 * Only managers and reviewers qualify (admins only as the owner fallback), never for
 * an item about their own grant or a credential they own (lib/auth/sod.ts).
 * Items left without anyone go to the campaign owner (source owner_fallback).
 */
const CERTIFIER = `u.roles && ARRAY['manager','reviewer']::text[]`;

/** Separation of duties as a join condition: `u` may decide item `ci`. */
export const SOD_ELIGIBLE = `(u."principalId" IS NULL OR (u."principalId" <> ci."principalId"
  AND NOT (ci."principalKind" <> 'user' AND coalesce(ci."managerPrincipalId" = u."principalId", false))))`;

export async function assignReviewers(tx: Tx, campaign: { id: string; reviewerRule: string; namedReviewerIds: string[]; ownerId: string }): Promise<void> {
  if (campaign.reviewerRule === "manager") {
    await tx.$executeRawUnsafe(
      `INSERT INTO "CampaignItemReviewer" ("itemId", "userId", source)
       SELECT ci.id, u.id, 'manager' FROM "CampaignItem" ci
       LEFT JOIN "Principal" owner ON ci."principalKind" <> 'user' AND owner.id = ci."managerPrincipalId"
       JOIN "User" u ON u."principalId" = CASE WHEN ci."principalKind" = 'user' THEN ci."managerPrincipalId" ELSE owner."managerId" END
       WHERE ci."campaignId" = $1::uuid AND ${CERTIFIER} AND ${SOD_ELIGIBLE}`,
      campaign.id,
    );
  } else if (campaign.reviewerRule === "owning_team") {
    await tx.$executeRawUnsafe(
      `INSERT INTO "CampaignItemReviewer" ("itemId", "userId", source)
       SELECT ci.id, u.id, 'owning_team' FROM "CampaignItem" ci
       JOIN "Principal" member ON member."teamId" = ci."apiTeamId" AND member.kind = 'user'
       JOIN "User" u ON u."principalId" = member.id
       WHERE ci."campaignId" = $1::uuid AND ${CERTIFIER} AND ${SOD_ELIGIBLE}`,
      campaign.id,
    );
  } else {
    await tx.$executeRawUnsafe(
      `INSERT INTO "CampaignItemReviewer" ("itemId", "userId", source)
       SELECT ci.id, u.id, 'named' FROM "CampaignItem" ci JOIN "User" u ON u.id = ANY($2::uuid[])
       WHERE ci."campaignId" = $1::uuid AND ${CERTIFIER} AND ${SOD_ELIGIBLE}`,
      campaign.id,
      campaign.namedReviewerIds,
    );
  }
  await tx.$executeRawUnsafe(
    `INSERT INTO "CampaignItemReviewer" ("itemId", "userId", source)
     SELECT ci.id, $2::uuid, 'owner_fallback' FROM "CampaignItem" ci
     WHERE ci."campaignId" = $1::uuid AND NOT EXISTS (SELECT 1 FROM "CampaignItemReviewer" r WHERE r."itemId" = ci.id)`,
    campaign.id,
    campaign.ownerId,
  );
}
