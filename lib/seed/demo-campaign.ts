import { systemActor } from "@/lib/auth/actor";
import { createCampaign } from "@/lib/campaigns/create";
import { launchCampaign } from "@/lib/campaigns/launch";
import type { PrismaClient } from "@/lib/db";

const DAY = 86_400_000;

/**
 * The demo's launched campaign, so `npm start` shows real content: the
 * Checkout team's production access, certified by each principal's manager —
 * Morgan Manager (manager@tollgate.test) manages the Checkout team — owned by
 * the demo admin, due in three weeks. Idempotent: does nothing when one exists.
 */
export async function seedDemoCampaign(db: PrismaClient, now: Date = new Date()): Promise<{ campaignId: string; itemCount: number } | null> {
  if ((await db.campaign.count()) > 0) return null;
  const [admin, team, production] = await Promise.all([
    db.user.findUniqueOrThrow({ where: { email: "admin@tollgate.test" } }),
    db.team.findUniqueOrThrow({ where: { name: "Checkout" } }),
    db.environment.findFirstOrThrow({ where: { tier: "production" }, orderBy: { name: "asc" } }),
  ]);
  const quarter = `${now.getUTCFullYear()}-Q${Math.floor(now.getUTCMonth() / 3) + 1}`;
  const actor = systemActor("demo-seed");
  const created = await createCampaign(
    actor,
    {
      name: `Checkout production access ${quarter}`,
      period: quarter,
      teamIds: [team.id],
      environmentIds: [production.id],
      dueAt: new Date(now.getTime() + 21 * DAY).toISOString(),
      reviewerRule: "manager",
      closePolicy: "revoke",
      recurrence: "none",
    },
    db,
    { now, ownerId: admin.id },
  );
  const launched = await launchCampaign(actor, { campaignId: created.id }, db, now);
  return { campaignId: created.id, itemCount: launched.itemCount };
}
