import { z } from "zod";
import type { PrismaClient } from "@/lib/db";
import { badRequest, notFound } from "@/lib/errors";
import { iso } from "./cursor";
import { PROXY_REVISIONS } from "./revocations";
import { countBy, countRows } from "./sql";
import type { ReportDefinition, SummaryTable } from "./types";

/** The PDF lists at most this many revoked and reduced items; the CSV and JSON exports have every one. */
const MAX_PDF_ITEMS = 5000;

export const ENFORCEMENT_COLUMNS: SummaryTable["columns"] = [
  { key: "decision", header: "Decision", width: 0.05 },
  { key: "principal", header: "Principal", width: 0.1 },
  { key: "grant", header: "API / scope", width: 0.11 },
  { key: "environment", header: "Env", width: 0.05 },
  { key: "decisionId", header: "Decision id", width: 0.22, mono: true },
  { key: "decidedBy", header: "Decided by", width: 0.16 },
  { key: "confirmer", header: "Confirmed by", width: 0.13 },
  { key: "proxyRevisions", header: "Proxy rev.", width: 0.07 },
  { key: "verifiedRemovedAt", header: "Verified removed", width: 0.11 },
];

/**
 * Campaign report: every item of one campaign as snapshotted at launch, who
 * could review it, what was decided, by whom and when, and — for revokes and
 * reduces — the enforcement acknowledgement (state, enforced at, verified
 * removed at, and each proxy's revision). The PDF carries the snapshot's
 * completeness evidence (count and SHA-256) and the dashboard's figures.
 */
const filters = z.object({ campaignId: z.guid("must be a campaign id") }).strict();
type Filters = z.infer<typeof filters>;

const FROM = `
  FROM "CampaignItem" ci
  JOIN "Campaign" c ON c.id = ci."campaignId"
  LEFT JOIN "User" du ON du.id = ci."decidedById"
  -- The applied decision only: a proposal still awaiting a second reviewer, or one rejected or
  -- superseded, is not the item's decision (the audit log keeps those).
  LEFT JOIN "Decision" d ON d."campaignItemId" = ci.id AND d.discard IS NULL AND NOT d."awaitingConfirmation"
  LEFT JOIN "User" cu ON cu.id = d."confirmerId"
  WHERE ci."campaignId" = $1::uuid`;

/** "a@x (manager); b@x (delegated by a@x)": everyone who had the item in their queue. */
const REVIEWERS = `(
  SELECT string_agg(ru.email || ' (' || r.source::text || coalesce(' by ' || fu.email, '') || ')', '; ' ORDER BY r."assignedAt", ru.email)
  FROM "CampaignItemReviewer" r JOIN "User" ru ON ru.id = r."userId" LEFT JOIN "User" fu ON fu.id = r."delegatedFromId"
  WHERE r."itemId" = ci.id)`;

export const campaignReport: ReportDefinition<Filters> = {
  name: "campaign",
  title: "Campaign report",
  description: "Every item of a certification campaign: grant, reviewers, decision, justification, timestamps and enforcement proof.",
  filters,
  fields: [{ name: "campaignId", label: "Campaign", kind: "campaign", required: true }],
  columns: [
    { key: "campaign", header: "Campaign" },
    { key: "period", header: "Period" },
    { key: "itemId", header: "Item id" },
    { key: "grantId", header: "Grant id" },
    { key: "principal", header: "Principal" },
    { key: "principalKind", header: "Principal kind" },
    { key: "principalEmail", header: "Principal email" },
    { key: "team", header: "Team" },
    { key: "api", header: "API" },
    { key: "apiTeam", header: "API owning team" },
    { key: "scope", header: "Scope" },
    { key: "scopeLevel", header: "Scope level" },
    { key: "environment", header: "Environment" },
    { key: "grantedAt", header: "Granted at" },
    { key: "grantOrigin", header: "Grant origin (request, import, seed)" },
    { key: "lastUsedAt", header: "Last used (at launch)" },
    { key: "openFindings", header: "Open findings at launch" },
    { key: "reviewers", header: "Reviewers" },
    { key: "decision", header: "Decision" },
    { key: "justification", header: "Justification" },
    { key: "decidedBy", header: "Decided by" },
    { key: "decidedAt", header: "Decided at" },
    { key: "closedByPolicy", header: "Decided by close policy" },
    { key: "flagged", header: "Flagged" },
    { key: "escalatedAt", header: "Escalated at" },
    { key: "decisionId", header: "Enforcement decision id" },
    { key: "confirmer", header: "Confirmed by (two-person rule)" },
    { key: "enforcement", header: "Enforcement" },
    { key: "enforcedAt", header: "Enforced at" },
    { key: "verifiedRemovedAt", header: "Verified removed at" },
    { key: "proxyRevisions", header: "Proxy revisions" },
  ],
  async prepare(client: PrismaClient, f: Filters) {
    const c = await client.campaign.findUnique({ where: { id: f.campaignId }, select: { status: true } });
    if (!c) throw notFound("Campaign");
    if (c.status === "draft") throw badRequest("campaignId: the campaign has not been launched, so it has no items yet", "campaignId");
  },
  query: (f) => ({
    text: `SELECT c.name AS campaign, c.period, ci.id AS "itemId", ci."grantId" AS "grantId", ci."principalName" AS principal,
              ci."principalKind"::text AS "principalKind", ci."principalEmail" AS "principalEmail", ci."teamName" AS team,
              ci."apiName" AS api, ci."apiTeamName" AS "apiTeam", ci."scopeName" AS scope, ci."scopeLevel"::text AS "scopeLevel",
              ci."environmentName" AS environment, ${iso(`ci."grantedAt"`)} AS "grantedAt", ci."grantOrigin" AS "grantOrigin", ${iso(`ci."lastUsedAt"`)} AS "lastUsedAt",
              (SELECT string_agg((x->>'rule') || ':' || (x->>'severity'), ' ') FROM jsonb_array_elements(ci."openFindings") x) AS "openFindings",
              ${REVIEWERS} AS reviewers, ci.decision::text AS decision, ci.justification, du.email AS "decidedBy",
              ${iso(`ci."decidedAt"`)} AS "decidedAt", ci."closedByPolicy" AS "closedByPolicy", ci.flagged,
              ${iso(`ci."escalatedAt"`)} AS "escalatedAt", d.id AS "decisionId", cu.email AS confirmer,
              d.enforcement::text AS enforcement, ${iso(`d."enforcedAt"`)} AS "enforcedAt",
              ${iso(`d."verifiedRemovedAt"`)} AS "verifiedRemovedAt", ${PROXY_REVISIONS} AS "proxyRevisions"
       ${FROM}
       ORDER BY ci."principalName", ci."apiName", ci."scopeName", ci.id`,
    values: [f.campaignId],
  }),
  async summary(client, f) {
    const p = [f.campaignId];
    const c = await client.campaign.findUniqueOrThrow({
      where: { id: f.campaignId },
      include: { signOffs: { include: { user: { select: { email: true } } }, orderBy: { signedAt: "asc" } } },
    });
    const [total, decided, overdue, byDecision, byTeam, byReviewer, byDay, enforced] = await Promise.all([
      countRows(client, FROM, p),
      countRows(client, `${FROM} AND ci.decision IS NOT NULL`, p),
      // Overdue: still undecided after the due date (a closed campaign has none left).
      countRows(client, `${FROM} AND ci.decision IS NULL AND c."dueAt" < now()`, p),
      countBy(client, "coalesce(ci.decision::text, 'undecided')", FROM, p),
      countBy(client, "coalesce(ci.\"teamName\", '(no team)')", FROM, p),
      countBy(client, "coalesce(du.email, CASE WHEN ci.\"closedByPolicy\" THEN '(close policy)' ELSE '(undecided)' END)", FROM, p),
      countBy(client, "to_char(ci.\"decidedAt\" AT TIME ZONE 'UTC', 'YYYY-MM-DD')", `${FROM} AND ci."decidedAt" IS NOT NULL`, p),
      countBy(client, "d.enforcement::text", `${FROM} AND d.id IS NOT NULL`, p),
    ]);
    const completion = total === 0 ? 0 : Math.round((decided / total) * 1000) / 10;
    const removals = await client.$queryRawUnsafe<Record<string, string | null>[]>(
      `SELECT ci.decision::text AS decision, ci."principalName" AS principal, ci."apiName" || ' / ' || ci."scopeName" AS "grant",
              ci."environmentName" AS environment, d.id::text AS "decisionId", du.email AS "decidedBy", cu.email AS confirmer,
              ${PROXY_REVISIONS} AS "proxyRevisions", d.enforcement::text AS enforcement,
              to_char(d."verifiedRemovedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"') AS "verifiedRemovedAt"
       ${FROM} AND ci.decision IN ('revoke', 'reduce')
       ORDER BY ci."decidedAt", ci.id LIMIT ${MAX_PDF_ITEMS + 1}`,
      ...p,
    );
    const removalCount = byDecision.filter(([k]) => k === "revoke" || k === "reduce").reduce((s, [, n]) => s + n, 0);
    // Completion over time: cumulative decisions per day, in date order.
    let running = 0;
    const overTime = byDay
      .slice()
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([day, n]): [string, number] => [day, (running += n)]);
    return {
      rowCount: total,
      subject: `${c.name} (${c.period})`,
      chart: {
        title: "Completion over time (% of items decided)",
        points: overTime.map(([day, n]): [string, number] => [day, total === 0 ? 0 : Math.round((n / total) * 1000) / 10]),
        max: 100,
        unit: "%",
      },
      table: {
        title: "Revoked and reduced items with their enforcement proof",
        columns: ENFORCEMENT_COLUMNS,
        rows: removals.slice(0, MAX_PDF_ITEMS).map((r) => ({
          decision: r.decision ?? "",
          principal: r.principal ?? "",
          grant: r.grant ?? "",
          environment: r.environment ?? "",
          // A removal decided by the close policy has no decision row: say so rather than leave a blank.
          decisionId: r.decisionId ?? "(none)",
          decidedBy: r.decidedBy ?? "(close policy)",
          confirmer: r.confirmer ?? "-",
          proxyRevisions: r.proxyRevisions ?? (r.enforcement === "not_required" ? "not required" : "-"),
          verifiedRemovedAt: r.verifiedRemovedAt ?? `not verified (${r.enforcement ?? "no decision"})`,
        })),
        omitted: Math.max(0, removalCount - MAX_PDF_ITEMS),
      },
      totals: [
        ["Campaign", `${c.name} (${c.period})`],
        ["Status", c.status],
        ["Due", c.dueAt.toISOString()],
        ["Launched", c.launchedAt?.toISOString() ?? "-"],
        ["Snapshot items", c.snapshotCount ?? "-"],
        ["Snapshot SHA-256", c.snapshotSha256 ?? "-"],
        ["Items", total],
        ["Decided", decided],
        ["Completion (%)", completion],
        ["Overdue", overdue],
        ["Sign-offs", c.signOffs.length],
      ],
      breakdowns: [
        { title: "Items by decision", rows: byDecision },
        { title: "Items by team", rows: byTeam },
        { title: "Items by reviewer", rows: byReviewer },
        { title: "Completion over time (cumulative decided)", rows: overTime },
        { title: "Enforcement of revokes and reduces", rows: enforced },
        { title: "Sign-offs (items attested)", rows: c.signOffs.map((s): [string, number] => [`${s.user.email} at ${s.signedAt.toISOString()}`, s.itemCount]) },
      ],
    };
  },
};
