import type { Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { withLongWorkSlot } from "@/lib/db/long-work";
import { retrying } from "@/lib/db/retry";
import { conflict, notFound } from "@/lib/errors";
import { parse, requireManager } from "./common";
import { storedSnapshotDigest } from "./evidence";
import { notifyReviewers } from "./notify";
import { assignReviewers } from "./reviewers";
import { launchInput } from "./schemas";
import type { Tx } from "@/lib/db";

/** Above this many items a launch must name the count it creates (seen in the draft page's preview). */
export const LAUNCH_CONFIRM_ABOVE = 500;

export interface LaunchResult {
  campaignId: string;
  itemCount: number;
  sha256: string;
  snapshotAt: Date;
}

export interface Scope {
  apiIds: string[];
  environmentIds: string[];
  teamIds: string[];
}

/**
 * Launch snapshots every in-scope grant as an item — with its open findings
 * and last use beside it — assigns reviewers, and records the completeness
 * evidence (criteria, time, row count, SHA-256 over the items), all in one
 * transaction: a campaign is either fully launched or still a draft.
 * In scope: every active, unexpired grant of any principal kind (people,
 * service accounts, API keys — PCI DSS 4.0 7.2.5.1) matching all three filters.
 */
export async function launchCampaign(
  actor: Actor,
  input: unknown,
  client: PrismaClient = db(),
  now: Date = new Date(),
  /**
   * A person launching from the dashboard must name the count the preview showed when a launch creates more than
   * `confirmAbove` items. Scheduled launches (lib/campaigns/jobs.ts) and the demo seed pass nothing: no preview was shown.
   */
  opts: { confirmAbove?: number } = {},
): Promise<LaunchResult> {
  requireManager(actor);
  const { campaignId, confirmItemCount } = parse(launchInput, input);
  // Long work: a launch holds its connection for seconds, so it waits for a long-work slot instead of
  // taking every connection decisions need (issue 14); contention re-runs it (the draft check makes that safe).
  return withLongWorkSlot(() => retrying(client, "launch the campaign").$transaction(
    async (tx) => {
      const locked = await tx.$queryRaw<{ status: string }[]>`SELECT status::text FROM "Campaign" WHERE id = ${campaignId}::uuid FOR UPDATE`;
      if (locked.length === 0) throw notFound("Campaign");
      if (locked[0].status !== "draft") throw conflict(`This campaign was already launched (${locked[0].status})`);
      const campaign = await tx.campaign.findUniqueOrThrow({ where: { id: campaignId } });
      const scope = campaign.scope as unknown as Scope;
      await snapshotItems(tx, campaignId, scope, now);
      await assignReviewers(tx, campaign);
      const { count, sha256 } = await storedSnapshotDigest(tx, campaignId);
      // A big launch needs the admin to have seen the preview's count (the dry run on the draft page).
      if (opts.confirmAbove !== undefined && count > opts.confirmAbove && confirmItemCount !== count) {
        throw conflict(`This launch creates ${count} items (more than ${opts.confirmAbove}): confirm that count to launch`);
      }
      // One after the other: a transaction is one connection (pg 9 refuses concurrent queries on it).
      const apis = await tx.api.findMany({ where: { id: { in: scope.apiIds ?? [] } }, select: { id: true, name: true } });
      const envs = await tx.environment.findMany({ where: { id: { in: scope.environmentIds ?? [] } }, select: { id: true, name: true } });
      const teams = await tx.team.findMany({ where: { id: { in: scope.teamIds ?? [] } }, select: { id: true, name: true } });
      const criteria = {
        grants: "status = active and (expiresAt is null or expiresAt > snapshotAt); every principal kind and status",
        apis: apis.length ? apis : "all",
        environments: envs.length ? envs : "all",
        teams: teams.length ? teams : "all (principal's team)",
        reviewerRule: campaign.reviewerRule,
        digest: "sha256 over grantId|principalId|scopeId|environmentId|grantedAt|expiresAt|lastUsedAt per item, ordered by grantId, joined by \\n",
      };
      await tx.campaign.update({
        where: { id: campaignId },
        data: { status: "active", launchedAt: now, snapshotAt: now, snapshotCount: count, snapshotSha256: sha256, snapshotCriteria: criteria },
      });
      await notifyReviewers(tx, campaign, now);
      await appendAuditEvent(tx, {
        actor,
        action: "campaign.launch",
        target: `campaign:${campaignId}`,
        data: { name: campaign.name, period: campaign.period, snapshotAt: now.toISOString(), itemCount: count, sha256, criteria },
      });
      return { campaignId, itemCount: count, sha256, snapshotAt: now };
    },
    { timeout: 300_000, maxWait: 10_000 },
  ));
}

/** The launch snapshot: every in-scope grant as an item (shared by the launch and its dry run). */
export async function snapshotItems(tx: Tx, campaignId: string, scope: Scope, now: Date): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO "CampaignItem" (id, "campaignId", "grantId", "principalId", "principalName", "principalKind", "principalEmail", "managerPrincipalId",
       "scopeId", "scopeName", "scopeLevel", "apiId", "apiName", "environmentId", "environmentName", "teamId", "teamName", "apiTeamId", "apiTeamName",
       "grantedAt", "expiresAt", "lastUsedAt", "openFindings", "openFindingCount", "grantOrigin")
     SELECT gen_random_uuid(), $1::uuid, g.id, p.id, p."displayName", p.kind, p.email, p."managerId",
       s.id, s.name, s.level, a.id, a.name, e.id, e.name, t.id, t.name, at.id, at.name,
       g."grantedAt", g."expiresAt", g."lastUsedAt", coalesce(f.list, '[]'::jsonb), coalesce(f.n, 0), g.origin
     FROM "Grant" g
     JOIN "Principal" p ON p.id = g."principalId"
     JOIN "Scope" s ON s.id = g."scopeId"
     JOIN "Api" a ON a.id = s."apiId"
     JOIN "Environment" e ON e.id = g."environmentId"
     LEFT JOIN "Team" t ON t.id = p."teamId"
     LEFT JOIN "Team" at ON at.id = a."teamId"
     LEFT JOIN LATERAL (
       SELECT jsonb_agg(jsonb_build_object('id', f.id, 'rule', f.rule, 'severity', f.severity, 'riskScore', f."riskScore") ORDER BY f."riskScore" DESC) AS list,
              count(*)::int AS n
       FROM "Finding" f WHERE f."grantId" = g.id AND f.status = 'open'
     ) f ON true
     WHERE g.status = 'active' AND (g."expiresAt" IS NULL OR g."expiresAt" > $2::timestamptz)
       AND (cardinality($3::uuid[]) = 0 OR a.id = ANY($3::uuid[]))
       AND (cardinality($4::uuid[]) = 0 OR g."environmentId" = ANY($4::uuid[]))
       AND (cardinality($5::uuid[]) = 0 OR p."teamId" = ANY($5::uuid[]))`,
    campaignId,
    now.toISOString(),
    scope.apiIds ?? [],
    scope.environmentIds ?? [],
    scope.teamIds ?? [],
  );
}
