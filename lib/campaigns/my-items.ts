import type { Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { Prisma } from "@/lib/db";
import { dormancyDaysFor, loadSettings } from "@/lib/settings";
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

/** The campaigns in which the caller has something to certify, to confirm (as owner) or has certified. */
export async function listMyCampaigns(actor: Actor, client: PrismaClient = db()): Promise<MyCampaign[]> {
  const me = requireCertifier(actor);
  return client.$queryRaw<MyCampaign[]>`
    WITH mine AS (
      SELECT i."campaignId", i.id, i.decision FROM "CampaignItem" i JOIN "Campaign" oc ON oc.id = i."campaignId"
      WHERE i."decidedById" = ${me.userId}::uuid OR i."confirmedById" = ${me.userId}::uuid
         OR (i.decision IS NULL AND (EXISTS (SELECT 1 FROM "CampaignItemReviewer" r WHERE r."itemId" = i.id AND r."userId" = ${me.userId}::uuid)
             OR (oc."ownerId" = ${me.userId}::uuid AND EXISTS (SELECT 1 FROM "Decision" x WHERE x."campaignItemId" = i.id AND x."awaitingConfirmation" AND x."deciderId" <> ${me.userId}::uuid))))
    )
    SELECT c.id, c.name, c.period, c.status::text AS status, c."dueAt", count(m.id)::int AS total, (count(m.id) - count(m.decision))::int AS pending, s."signedAt"
    FROM mine m JOIN "Campaign" c ON c.id = m."campaignId"
    LEFT JOIN "CampaignSignOff" s ON s."campaignId" = c.id AND s."userId" = ${me.userId}::uuid
    GROUP BY c.id, s."signedAt" ORDER BY (c.status = 'closed'), c."dueAt", c.id LIMIT 100`;
}

/** Two-person rule: a decision proposed on the item, not applied until someone else confirms it. */
export interface ItemProposalView {
  decisionId: string;
  decision: "keep" | "revoke" | "reduce";
  proposedBy: string;
  /** The caller proposed it: they wait for someone else. */
  mine: boolean;
  /** The caller may confirm or reject it (not the proposer, not about their own access). */
  canConfirm: boolean;
  justification: string | null;
  /** reduce: the scopes it would keep. */
  keptScopes: string[];
}

/** One of the principal's active scopes on the item's API (the reduce picker). */
export interface ScopeChoice {
  scopeId: string;
  name: string;
  level: string;
  lastUsedAt: Date | null;
  usedInWindow: boolean;
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
  confirmedBy: string | null;
  source: string | null;
  delegatedFrom: string | null;
  enforcement: string | null;
  proposal: ItemProposalView | null;
  /** The latest rejected proposal of an undecided item, so its proposer sees why. */
  lastRejection: { by: string; note: string } | null;
  /** Undecided items only: the principal's active scopes on the API, used or not in the dormancy window. */
  scopesOnApi: ScopeChoice[];
  windowDays: number;
  groupKey: string;
  groupLabel: string;
}

export interface MyItemsPage {
  campaign: { id: string; name: string; period: string; status: string; dueAt: Date; signedAt: Date | null };
  progress: { total: number; decided: number; pending: number; awaiting: number };
  rows: MyItem[];
  total: number;
  page: number;
  perPage: number;
  groupBy: "person" | "api";
  status: "pending" | "awaiting" | "decided" | "all";
  q: string;
  delegates: { id: string; label: string }[];
}

type Row = Omit<MyItem, "openFindings" | "proposal" | "scopesOnApi" | "windowDays" | "lastRejection"> & {
  openFindings: unknown;
  environmentId: string;
  managerPrincipalId: string | null;
  decisionId: string | null;
  awaiting: boolean | null;
  proposerId: string | null;
  proposedBy: string | null;
  decisionKind: string | null;
  proposalJustification: string | null;
  keptScopes: string[] | null;
  scopesOnApi: { scopeId: string; name: string; level: string; lastUsedAt: string | null }[] | null;
  lastRejection: { by: string; note: string } | null;
};

const DAY_MS = 86_400_000;
const CERTIFICATION = { approve: "keep", revoke: "revoke", reduce: "reduce" } as const;

/**
 * The caller's certification list, server-driven: filter, search, grouping
 * (by person or by API, as the sort order, so a group never splits across
 * pages unpredictably) and pagination all happen in SQL. The campaign owner
 * also sees the items whose proposals await a second reviewer, since they may
 * confirm them (./confirm.ts).
 */
export async function listMyItems(actor: Actor, input: unknown, client: PrismaClient = db(), now: Date = new Date()): Promise<MyItemsPage> {
  const me = requireCertifier(actor);
  const p = myItemsParams.safeParse(input);
  if (!p.success) throw notFound("Campaign");
  const v = p.data;
  const campaign = await client.campaign.findUnique({ where: { id: v.campaignId }, select: { id: true, name: true, period: true, status: true, dueAt: true, ownerId: true } });
  if (!campaign) throw notFound("Campaign");
  const onMyList = Prisma.sql`EXISTS (SELECT 1 FROM "CampaignItemReviewer" r WHERE r."itemId" = i.id AND r."userId" = ${me.userId}::uuid)`;
  const awaiting = Prisma.sql`EXISTS (SELECT 1 FROM "Decision" x WHERE x."campaignItemId" = i.id AND x."awaitingConfirmation")`;
  const toConfirmAsOwner =
    campaign.ownerId === me.userId
      ? Prisma.sql`EXISTS (SELECT 1 FROM "Decision" x WHERE x."campaignItemId" = i.id AND x."awaitingConfirmation" AND x."deciderId" <> ${me.userId}::uuid)`
      : Prisma.sql`false`;
  const mine = Prisma.sql`(i."decidedById" = ${me.userId}::uuid OR i."confirmedById" = ${me.userId}::uuid OR (i.decision IS NULL AND (${onMyList} OR ${toConfirmAsOwner})))`;
  const status =
    v.status === "pending"
      ? Prisma.sql`AND i.decision IS NULL`
      : v.status === "awaiting"
        ? Prisma.sql`AND i.decision IS NULL AND ${awaiting}`
        : v.status === "decided"
          ? Prisma.sql`AND i.decision IS NOT NULL`
          : Prisma.empty;
  const like = `%${v.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const search = v.q ? Prisma.sql`AND (i."principalName" ILIKE ${like} OR i."apiName" ILIKE ${like} OR i."scopeName" ILIKE ${like})` : Prisma.empty;
  const order = v.groupBy === "person" ? Prisma.sql`i."principalName", i."principalId", i."apiName", i."scopeName", i.id` : Prisma.sql`i."apiName", i."apiId", i."principalName", i."scopeName", i.id`;
  const where = Prisma.sql`i."campaignId" = ${v.campaignId}::uuid AND ${mine}`;
  const [rows, [counts], signOff, delegates, settings] = await Promise.all([
    client.$queryRaw<Row[]>`
      SELECT i.id, i."principalName", i."principalKind"::text AS "principalKind", i."principalId", i."scopeName", i."scopeLevel"::text AS "scopeLevel",
        i."apiName", i."environmentName", i."environmentId", i."managerPrincipalId", i."teamName", i."lastUsedAt", i."openFindings",
        i.decision::text AS decision, i.justification, i."decidedAt", cu.name AS "confirmedBy",
        r.source::text AS source, df.name AS "delegatedFrom",
        NULLIF(d.enforcement, 'proposed')::text AS enforcement,
        d.id AS "decisionId", d."awaitingConfirmation" AS awaiting, d."deciderId" AS "proposerId", pu.name AS "proposedBy", d.kind::text AS "decisionKind",
        d.justification AS "proposalJustification",
        (SELECT array_agg(s.name ORDER BY s.name) FROM "Scope" s WHERE s.id = ANY(d."keptScopeIds")) AS "keptScopes",
        CASE WHEN i.decision IS NULL THEN (
          SELECT json_agg(json_build_object('scopeId', s.id, 'name', s.name, 'level', s.level, 'lastUsedAt', g."lastUsedAt") ORDER BY s.name)
          FROM "Grant" g JOIN "Scope" s ON s.id = g."scopeId"
          WHERE g."principalId" = i."principalId" AND g."environmentId" = i."environmentId" AND s."apiId" = i."apiId" AND g.status = 'active'
        ) END AS "scopesOnApi",
        CASE WHEN i.decision IS NULL AND d.id IS NULL THEN (
          SELECT json_build_object('by', ru.name, 'note', x."discardNote") FROM "Decision" x JOIN "User" ru ON ru.id = x."discardedById"
          WHERE x."campaignItemId" = i.id AND x.discard = 'rejected' ORDER BY x."discardedAt" DESC LIMIT 1
        ) END AS "lastRejection",
        CASE WHEN ${v.groupBy} = 'person' THEN i."principalId"::text ELSE i."apiId"::text END AS "groupKey",
        CASE WHEN ${v.groupBy} = 'person' THEN i."principalName" || ' (' || i."principalKind"::text || ')' ELSE i."apiName" || ' · ' || i."environmentName" END AS "groupLabel"
      FROM "CampaignItem" i
      LEFT JOIN "CampaignItemReviewer" r ON r."itemId" = i.id AND r."userId" = ${me.userId}::uuid
      LEFT JOIN "User" df ON df.id = r."delegatedFromId"
      LEFT JOIN "Decision" d ON d."campaignItemId" = i.id AND d.discard IS NULL
      LEFT JOIN "User" pu ON pu.id = d."deciderId"
      LEFT JOIN "User" cu ON cu.id = i."confirmedById"
      WHERE ${where} ${status} ${search}
      ORDER BY ${order}
      LIMIT ${v.perPage} OFFSET ${(v.page - 1) * v.perPage}`,
    client.$queryRaw<{ total: number; decided: number; awaiting: number; filtered: number }[]>`
      SELECT count(*)::int AS total, count(i.decision)::int AS decided,
        count(*) FILTER (WHERE i.decision IS NULL AND ${awaiting})::int AS awaiting,
        count(*) FILTER (WHERE true ${status} ${search})::int AS filtered
      FROM "CampaignItem" i WHERE ${where}`,
    client.campaignSignOff.findUnique({ where: { campaignId_userId: { campaignId: v.campaignId, userId: me.userId } }, select: { signedAt: true } }),
    client.user.findMany({ where: { roles: { hasSome: CERTIFIER_ROLES }, id: { not: me.userId } }, select: { id: true, name: true, email: true }, orderBy: { name: "asc" }, take: 200 }),
    loadSettings(client),
  ]);
  // Mirrors assertNotSelfReview on the launch snapshot, so no Confirm button is shown that could only be refused.
  const ownAccess = (r: Row) => Boolean(me.principalId && (r.principalId === me.principalId || (r.principalKind !== "user" && r.managerPrincipalId === me.principalId)));
  return {
    campaign: { id: campaign.id, name: campaign.name, period: campaign.period, status: campaign.status, dueAt: campaign.dueAt, signedAt: signOff?.signedAt ?? null },
    progress: { total: counts.total, decided: counts.decided, pending: counts.total - counts.decided, awaiting: counts.awaiting },
    rows: rows.map((r) => {
      const windowDays = dormancyDaysFor(settings, r.environmentId);
      const windowStart = now.getTime() - windowDays * DAY_MS;
      const {
        environmentId: _e, managerPrincipalId: _m, decisionId, awaiting: isAwaiting, proposerId, proposedBy, decisionKind, proposalJustification, keptScopes, scopesOnApi, lastRejection, openFindings, ...rest
      } = r;
      return {
        ...rest,
        openFindings: (openFindings as { rule: string; severity: string }[]) ?? [],
        proposal:
          isAwaiting && decisionId && proposerId && decisionKind
            ? {
                decisionId,
                decision: CERTIFICATION[decisionKind as keyof typeof CERTIFICATION],
                proposedBy: proposedBy ?? "someone",
                mine: proposerId === me.userId,
                canConfirm: proposerId !== me.userId && !ownAccess(r),
                justification: proposalJustification,
                keptScopes: keptScopes ?? [],
              }
            : null,
        lastRejection,
        scopesOnApi: (scopesOnApi ?? []).map((s) => ({
          scopeId: s.scopeId,
          name: s.name,
          level: s.level,
          lastUsedAt: s.lastUsedAt ? new Date(s.lastUsedAt) : null,
          usedInWindow: Boolean(s.lastUsedAt && new Date(s.lastUsedAt).getTime() >= windowStart),
        })),
        windowDays,
      };
    }),
    total: counts.filtered,
    page: v.page,
    perPage: v.perPage,
    groupBy: v.groupBy,
    status: v.status,
    q: v.q,
    delegates: delegates.map((u) => ({ id: u.id, label: `${u.name} <${u.email}>` })),
  };
}
