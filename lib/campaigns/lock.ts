import type { Tx } from "@/lib/db";
import { conflict, notFound } from "@/lib/errors";
import type { DecisionGrant } from "@/lib/review/record";

export interface LockedItem {
  id: string;
  campaignId: string;
  campaignName: string;
  campaignStatus: string;
  ownerId: string;
  decision: string | null;
  grantId: string;
  grantStatus: string;
  principalId: string;
  principalKind: string;
  apiName: string;
  /** The open findings the launch snapshotted on the item (what its recommendation and "risky" follow from). */
  openFindings: { rule: string; severity: string }[];
  grant: DecisionGrant;
  /** Two-person rule: the proposal awaiting a second person, if any (the item is undecided meanwhile). */
  proposal: { id: string; deciderId: string } | null;
}

/**
 * Locks an item for the rest of the transaction and checks it can still be
 * decided: a frozen (closed) campaign, an item already decided, or a grant
 * changed meanwhile is a conflict (409), never silently overwritten. The item's
 * lock also serialises everything done to its proposal (propose, confirm,
 * reject, supersede), so the proposal read here stays current.
 */
export async function lockOpenItem(tx: Tx, itemId: string, opts: { allowInactiveGrant?: boolean } = {}): Promise<LockedItem> {
  const [row] = await tx.$queryRaw<
    {
      id: string; campaignId: string; campaignName: string; campaignStatus: string; ownerId: string; decision: string | null; grantId: string;
      grantStatus: string; principalId: string; principalKind: string; environmentId: string; apiId: string; level: string; scopeName: string;
      tier: string; envName: string; displayName: string; apiName: string; openFindings: unknown; proposalId: string | null; proposerId: string | null;
    }[]
  >`
    SELECT ci.id, ci."campaignId", c.name AS "campaignName", c.status::text AS "campaignStatus", c."ownerId", ci.decision::text AS decision,
      ci."grantId", g.status::text AS "grantStatus", g."principalId", p.kind::text AS "principalKind", g."environmentId",
      s."apiId", s.level::text AS level, s.name AS "scopeName", e.tier::text AS tier, e.name AS "envName", p."displayName", ci."apiName", ci."openFindings",
      pd.id AS "proposalId", pd."deciderId" AS "proposerId"
    FROM "CampaignItem" ci
    JOIN "Campaign" c ON c.id = ci."campaignId"
    JOIN "Grant" g ON g.id = ci."grantId"
    JOIN "Scope" s ON s.id = g."scopeId"
    JOIN "Environment" e ON e.id = g."environmentId"
    JOIN "Principal" p ON p.id = g."principalId"
    LEFT JOIN "Decision" pd ON pd."campaignItemId" = ci.id AND pd."awaitingConfirmation"
    WHERE ci.id = ${itemId}::uuid
    FOR UPDATE OF ci`;
  if (!row) throw notFound("Campaign item");
  if (row.campaignStatus === "closed") throw conflict("This campaign is closed; its decisions are frozen");
  if (row.campaignStatus === "draft") throw conflict("This campaign has not been launched");
  if (row.decision) throw conflict(`This item was already decided (${row.decision})`);
  if (row.grantStatus !== "active" && !opts.allowInactiveGrant) throw conflict(`The grant is no longer active (${row.grantStatus})`);
  return {
    id: row.id,
    campaignId: row.campaignId,
    campaignName: row.campaignName,
    campaignStatus: row.campaignStatus,
    ownerId: row.ownerId,
    decision: row.decision,
    grantId: row.grantId,
    grantStatus: row.grantStatus,
    principalId: row.principalId,
    principalKind: row.principalKind,
    apiName: row.apiName,
    openFindings: Array.isArray(row.openFindings) ? (row.openFindings as { rule: string; severity: string }[]) : [],
    grant: {
      id: row.grantId,
      principalId: row.principalId,
      environmentId: row.environmentId,
      scope: { apiId: row.apiId, level: row.level, name: row.scopeName },
      environment: { tier: row.tier, name: row.envName },
      principal: { displayName: row.displayName },
    },
    proposal: row.proposalId && row.proposerId ? { id: row.proposalId, deciderId: row.proposerId } : null,
  };
}

/** Whether `userId` is on the item's reviewer list. */
export async function isReviewerOf(tx: Tx, itemId: string, userId: string): Promise<boolean> {
  const n = await tx.campaignItemReviewer.count({ where: { itemId, userId } });
  return n > 0;
}
