import type { Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { Prisma } from "@/lib/db";
import { CERTIFIER_ROLES, requireCertifier } from "./common";
import { myItemsParams } from "./schemas";

export interface MyCampaign {
  id: string;
  name: string;
  period: string;
  status: string;
  dueAt: Date;
  /** Items on the caller's list plus the ones they decided. */
  total: number;
  pending: number;
  signedAt: Date | null;
}

/** The campaigns in which the caller has something to certify or has certified. */
export async function listMyCampaigns(actor: Actor, client: PrismaClient = db()): Promise<MyCampaign[]> {
  const me = requireCertifier(actor);
  return client.$queryRaw<MyCampaign[]>`
    WITH mine AS (
      SELECT i."campaignId", i.id, i.decision FROM "CampaignItem" i
      WHERE i."decidedById" = ${me.userId}::uuid
         OR (i.decision IS NULL AND EXISTS (SELECT 1 FROM "CampaignItemReviewer" r WHERE r."itemId" = i.id AND r."userId" = ${me.userId}::uuid))
    )
    SELECT c.id, c.name, c.period, c.status::text AS status, c."dueAt", count(m.id)::int AS total, (count(m.id) - count(m.decision))::int AS pending, s."signedAt"
    FROM mine m JOIN "Campaign" c ON c.id = m."campaignId"
    LEFT JOIN "CampaignSignOff" s ON s."campaignId" = c.id AND s."userId" = ${me.userId}::uuid
    GROUP BY c.id, s."signedAt" ORDER BY (c.status = 'closed'), c."dueAt", c.id LIMIT 100`;
}

export interface MyItem {
  id: string;
  principalName: string;
  principalKind: string;
  principalId: string;
  scopeName: string;
  scopeLevel: string;
  apiName: string;
  environmentName: string;
  teamName: string | null;
  lastUsedAt: Date | null;
  openFindings: { rule: string; severity: string }[];
  decision: string | null;
  justification: string | null;
  decidedAt: Date | null;
  source: string | null;
  delegatedFrom: string | null;
  enforcement: string | null;
  groupKey: string;
  groupLabel: string;
}

export interface MyItemsPage {
  campaign: { id: string; name: string; period: string; status: string; dueAt: Date; signedAt: Date | null };
  progress: { total: number; decided: number; pending: number };
  rows: MyItem[];
  total: number;
  page: number;
  perPage: number;
  groupBy: "person" | "api";
  status: "pending" | "decided" | "all";
  q: string;
  delegates: { id: string; label: string }[];
}

/**
 * The caller's certification list, server-driven: filter, search, grouping
 * (by person or by API, as the sort order, so a group never splits across
 * pages unpredictably) and pagination all happen in SQL.
 */
export async function listMyItems(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<MyItemsPage> {
  const me = requireCertifier(actor);
  const p = myItemsParams.safeParse(input);
  if (!p.success) throw notFound("Campaign");
  const v = p.data;
  const campaign = await client.campaign.findUnique({ where: { id: v.campaignId }, select: { id: true, name: true, period: true, status: true, dueAt: true } });
  if (!campaign) throw notFound("Campaign");
  const onMyList = Prisma.sql`EXISTS (SELECT 1 FROM "CampaignItemReviewer" r WHERE r."itemId" = i.id AND r."userId" = ${me.userId}::uuid)`;
  const mine = Prisma.sql`(i."decidedById" = ${me.userId}::uuid OR (i.decision IS NULL AND ${onMyList}))`;
  const status = v.status === "pending" ? Prisma.sql`AND i.decision IS NULL` : v.status === "decided" ? Prisma.sql`AND i.decision IS NOT NULL` : Prisma.empty;
  const like = `%${v.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const search = v.q ? Prisma.sql`AND (i."principalName" ILIKE ${like} OR i."apiName" ILIKE ${like} OR i."scopeName" ILIKE ${like})` : Prisma.empty;
  const order = v.groupBy === "person" ? Prisma.sql`i."principalName", i."principalId", i."apiName", i."scopeName", i.id` : Prisma.sql`i."apiName", i."apiId", i."principalName", i."scopeName", i.id`;
  const where = Prisma.sql`i."campaignId" = ${v.campaignId}::uuid AND ${mine}`;
  const [rows, [counts], signOff, delegates] = await Promise.all([
    client.$queryRaw<(MyItem & { openFindings: unknown })[]>`
      SELECT i.id, i."principalName", i."principalKind"::text AS "principalKind", i."principalId", i."scopeName", i."scopeLevel"::text AS "scopeLevel",
        i."apiName", i."environmentName", i."teamName", i."lastUsedAt", i."openFindings", i.decision::text AS decision, i.justification, i."decidedAt",
        r.source::text AS source, df.name AS "delegatedFrom", d.enforcement::text AS enforcement,
        CASE WHEN ${v.groupBy} = 'person' THEN i."principalId"::text ELSE i."apiId"::text END AS "groupKey",
        CASE WHEN ${v.groupBy} = 'person' THEN i."principalName" || ' (' || i."principalKind"::text || ')' ELSE i."apiName" || ' · ' || i."environmentName" END AS "groupLabel"
      FROM "CampaignItem" i
      LEFT JOIN "CampaignItemReviewer" r ON r."itemId" = i.id AND r."userId" = ${me.userId}::uuid
      LEFT JOIN "User" df ON df.id = r."delegatedFromId"
      LEFT JOIN "Decision" d ON d."campaignItemId" = i.id
      WHERE ${where} ${status} ${search}
      ORDER BY ${order}
      LIMIT ${v.perPage} OFFSET ${(v.page - 1) * v.perPage}`,
    client.$queryRaw<{ total: number; decided: number; filtered: number }[]>`
      SELECT count(*)::int AS total, count(i.decision)::int AS decided,
        count(*) FILTER (WHERE true ${status} ${search})::int AS filtered
      FROM "CampaignItem" i WHERE ${where}`,
    client.campaignSignOff.findUnique({ where: { campaignId_userId: { campaignId: v.campaignId, userId: me.userId } }, select: { signedAt: true } }),
    client.user.findMany({ where: { roles: { hasSome: CERTIFIER_ROLES }, id: { not: me.userId } }, select: { id: true, name: true, email: true }, orderBy: { name: "asc" }, take: 200 }),
  ]);
  return {
    campaign: { ...campaign, status: campaign.status, signedAt: signOff?.signedAt ?? null },
    progress: { total: counts.total, decided: counts.decided, pending: counts.total - counts.decided },
    rows: rows.map((r) => ({ ...r, openFindings: (r.openFindings as { rule: string; severity: string }[]) ?? [] })),
    total: counts.filtered,
    page: v.page,
    perPage: v.perPage,
    groupBy: v.groupBy,
    status: v.status,
    q: v.q,
    delegates: delegates.map((u) => ({ id: u.id, label: `${u.name} <${u.email}>` })),
  };
}
