import type { Tx } from "@/lib/db";

/** One "you have N items to certify" notification per reviewer of a campaign (idempotent by dedupe key). */
export async function notifyReviewers(tx: Tx, campaign: { id: string; name: string; dueAt: Date }, now: Date): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO "Notification" (id, "userId", kind, message, link, "dedupeKey", "createdAt")
     SELECT gen_random_uuid(), r."userId", 'campaign.assigned',
            format('%s item(s) to certify in "%s", due %s', count(*), $2::text, to_char($3::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD')),
            '/certifications?campaign=' || $1::text, 'assigned:' || $1::text || ':' || r."userId"::text, $4::timestamptz
     FROM "CampaignItemReviewer" r JOIN "CampaignItem" ci ON ci.id = r."itemId"
     WHERE ci."campaignId" = $1::uuid
     GROUP BY r."userId"
     ON CONFLICT ("dedupeKey") DO NOTHING`,
    campaign.id,
    campaign.name,
    campaign.dueAt.toISOString(),
    now.toISOString(),
  );
}
