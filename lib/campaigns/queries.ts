import { authorize, can, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { CERTIFIER_ROLES } from "./common";

/** Campaign dashboards and lists: admins (manage) and auditors (read). */
function requireReader(actor: Actor) {
  if (!can(actor, "campaigns:manage")) authorize(actor, "campaigns:read");
}

export interface CampaignRow {
  id: string;
  name: string;
  period: string;
  status: string;
  dueAt: Date;
  reviewerRule: string;
  closePolicy: string;
  total: number;
  decided: number;
  createdAt: Date;
}

export async function listCampaigns(actor: Actor, params: { page?: number } = {}, client: PrismaClient = db()): Promise<{ rows: CampaignRow[]; total: number; page: number; perPage: number }> {
  requireReader(actor);
  const perPage = 25;
  const page = Math.max(1, Math.min(10_000, Math.floor(Number(params.page) || 1)));
  const [rows, [{ n }]] = await Promise.all([
    client.$queryRaw<CampaignRow[]>`
      SELECT c.id, c.name, c.period, c.status::text AS status, c."dueAt", c."reviewerRule"::text AS "reviewerRule", c."closePolicy"::text AS "closePolicy", c."createdAt",
        (SELECT count(*)::int FROM "CampaignItem" i WHERE i."campaignId" = c.id) AS total,
        (SELECT count(*)::int FROM "CampaignItem" i WHERE i."campaignId" = c.id AND i.decision IS NOT NULL) AS decided
      FROM "Campaign" c ORDER BY c."createdAt" DESC, c.id LIMIT ${perPage} OFFSET ${(page - 1) * perPage}`,
    client.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "Campaign"`,
  ]);
  return { rows, total: n, page, perPage };
}

export interface CampaignFormOptions {
  apis: { id: string; label: string }[];
  environments: { id: string; label: string }[];
  teams: { id: string; label: string }[];
  certifiers: { id: string; label: string }[];
}

export async function campaignFormOptions(actor: Actor, client: PrismaClient = db()): Promise<CampaignFormOptions> {
  authorize(actor, "campaigns:manage");
  const [apis, environments, teams, users] = await Promise.all([
    client.api.findMany({ select: { id: true, name: true, environment: { select: { name: true } } }, orderBy: [{ name: "asc" }] }),
    client.environment.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" } }),
    client.team.findMany({ where: { deletedAt: null }, select: { id: true, name: true }, orderBy: { name: "asc" } }),
    client.user.findMany({ where: { roles: { hasSome: CERTIFIER_ROLES } }, select: { id: true, name: true, email: true }, orderBy: { name: "asc" } }),
  ]);
  return {
    apis: apis.map((a) => ({ id: a.id, label: `${a.name} (${a.environment.name})` })),
    environments: environments.map((e) => ({ id: e.id, label: e.name })),
    teams: teams.map((t) => ({ id: t.id, label: t.name })),
    certifiers: users.map((u) => ({ id: u.id, label: `${u.name} <${u.email}>` })),
  };
}

export interface CampaignDashboard {
  campaign: {
    id: string; name: string; period: string; status: string; dueAt: Date; launchedAt: Date | null; closedAt: Date | null; fallbackStartedAt: Date | null;
    reviewerRule: string; closePolicy: string; recurrence: string; owner: string; fallbackReviewer: string | null; fallbackDays: number;
    snapshotAt: Date | null; snapshotCount: number | null; snapshotSha256: string | null; snapshotCriteria: unknown;
  };
  totals: { total: number; decided: number; pending: number; awaiting: number; keep: number; revoke: number; reduce: number; overdue: number; flagged: number; escalated: number; ownerFallback: number; enforced: number; enforcing: number };
  completion: { day: string; decided: number; total: number }[];
  byTeam: { team: string; keep: number; revoke: number; reduce: number; pending: number }[];
  byReviewer: { reviewer: string; keep: number; revoke: number; reduce: number; pending: number }[];
  signOffs: { reviewer: string; signedAt: Date; itemCount: number; itemsSha256: string }[];
}

export async function getCampaignDashboard(actor: Actor, campaignId: string, client: PrismaClient = db(), now: Date = new Date()): Promise<CampaignDashboard> {
  requireReader(actor);
  if (!/^[0-9a-f-]{36}$/i.test(campaignId)) throw notFound("Campaign");
  const c = await client.campaign.findUnique({ where: { id: campaignId }, include: { owner: { select: { name: true } }, fallbackReviewer: { select: { name: true } } } });
  if (!c) throw notFound("Campaign");
  const [[totals], completion, byTeam, byReviewer, signOffs] = await Promise.all([
    client.$queryRaw<CampaignDashboard["totals"][]>`
      SELECT count(*)::int AS total, count(i.decision)::int AS decided, (count(*) - count(i.decision))::int AS pending,
        count(*) FILTER (WHERE i.decision = 'keep')::int AS keep, count(*) FILTER (WHERE i.decision = 'revoke')::int AS revoke,
        count(*) FILTER (WHERE i.decision = 'reduce')::int AS reduce,
        count(*) FILTER (WHERE i.decision IS NULL AND ${c.dueAt} < ${now})::int AS overdue,
        count(*) FILTER (WHERE i.decision IS NULL AND EXISTS (SELECT 1 FROM "Decision" x WHERE x."campaignItemId" = i.id AND x."awaitingConfirmation"))::int AS awaiting,
        count(*) FILTER (WHERE i.flagged)::int AS flagged, count(i."escalatedAt")::int AS escalated,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM "CampaignItemReviewer" r WHERE r."itemId" = i.id AND r.source = 'owner_fallback'))::int AS "ownerFallback",
        (SELECT count(*)::int FROM "Decision" d JOIN "CampaignItem" x ON x.id = d."campaignItemId" WHERE x."campaignId" = ${campaignId}::uuid AND d.discard IS NULL AND d.enforcement = 'applied') AS enforced,
        (SELECT count(*)::int FROM "Decision" d JOIN "CampaignItem" x ON x.id = d."campaignItemId" WHERE x."campaignId" = ${campaignId}::uuid AND d.discard IS NULL AND d.enforcement = 'pending') AS enforcing
      FROM "CampaignItem" i WHERE i."campaignId" = ${campaignId}::uuid`,
    c.launchedAt
      ? client.$queryRaw<{ day: string; decided: number; total: number }[]>`
          SELECT to_char(d, 'YYYY-MM-DD') AS day,
            (SELECT count(*)::int FROM "CampaignItem" i WHERE i."campaignId" = ${campaignId}::uuid AND i."decidedAt" < d + interval '1 day') AS decided,
            ${c.snapshotCount ?? 0}::int AS total
          FROM generate_series(date_trunc('day', ${c.launchedAt}::timestamptz AT TIME ZONE 'UTC'), date_trunc('day', ${c.closedAt ?? now}::timestamptz AT TIME ZONE 'UTC'), interval '1 day') AS d
          ORDER BY d LIMIT 400`
      : Promise.resolve([]),
    client.$queryRaw<CampaignDashboard["byTeam"]>`
      SELECT coalesce(i."teamName", '(no team)') AS team,
        count(*) FILTER (WHERE i.decision = 'keep')::int AS keep, count(*) FILTER (WHERE i.decision = 'revoke')::int AS revoke,
        count(*) FILTER (WHERE i.decision = 'reduce')::int AS reduce, count(*) FILTER (WHERE i.decision IS NULL)::int AS pending
      FROM "CampaignItem" i WHERE i."campaignId" = ${campaignId}::uuid GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 30`,
    client.$queryRaw<CampaignDashboard["byReviewer"]>`
      WITH decided AS (
        SELECT i."decidedById" AS uid, count(*) FILTER (WHERE i.decision = 'keep')::int AS keep, count(*) FILTER (WHERE i.decision = 'revoke')::int AS revoke,
          count(*) FILTER (WHERE i.decision = 'reduce')::int AS reduce
        FROM "CampaignItem" i WHERE i."campaignId" = ${campaignId}::uuid AND i."decidedById" IS NOT NULL AND NOT i."closedByPolicy" GROUP BY 1
      ), pending AS (
        SELECT r."userId" AS uid, count(*)::int AS pending FROM "CampaignItemReviewer" r JOIN "CampaignItem" i ON i.id = r."itemId"
        WHERE i."campaignId" = ${campaignId}::uuid AND i.decision IS NULL GROUP BY 1
      )
      SELECT u.name AS reviewer, coalesce(d.keep, 0) AS keep, coalesce(d.revoke, 0) AS revoke, coalesce(d.reduce, 0) AS reduce, coalesce(p.pending, 0) AS pending
      FROM decided d FULL JOIN pending p ON p.uid = d.uid JOIN "User" u ON u.id = coalesce(d.uid, p.uid)
      ORDER BY coalesce(p.pending, 0) DESC, u.name LIMIT 30`,
    client.campaignSignOff.findMany({ where: { campaignId }, include: { user: { select: { name: true } } }, orderBy: { signedAt: "asc" } }),
  ]);
  return {
    campaign: {
      id: c.id, name: c.name, period: c.period, status: c.status, dueAt: c.dueAt, launchedAt: c.launchedAt, closedAt: c.closedAt, fallbackStartedAt: c.fallbackStartedAt,
      reviewerRule: c.reviewerRule, closePolicy: c.closePolicy, recurrence: c.recurrence, owner: c.owner.name, fallbackReviewer: c.fallbackReviewer?.name ?? null,
      fallbackDays: c.fallbackDays, snapshotAt: c.snapshotAt, snapshotCount: c.snapshotCount, snapshotSha256: c.snapshotSha256, snapshotCriteria: c.snapshotCriteria,
    },
    totals,
    completion,
    byTeam,
    byReviewer,
    signOffs: signOffs.map((s) => ({ reviewer: s.user.name, signedAt: s.signedAt, itemCount: s.itemCount, itemsSha256: s.itemsSha256 })),
  };
}
