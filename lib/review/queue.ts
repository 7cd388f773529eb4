import { authorize, can, type Actor } from "@/lib/auth/actor";
import { db, Prisma, type PrismaClient } from "@/lib/db";
import type { QueueQuery } from "./queue-params";

export interface QueueRow {
  id: string;
  rule: string;
  severity: string;
  riskScore: number;
  openedAt: Date;
  closedAt: Date | null;
  status: string;
  suggestion: string;
  reason: string | null;
  assigneeId: string | null;
  assigneeName: string | null;
  grantId: string;
  lastUsedAt: Date | null;
  scope: string;
  level: string;
  api: string;
  apiId: string;
  environment: string;
  principal: string;
  principalKind: string;
  decision: DecisionState | null;
}

export interface DecisionState {
  decisionId: string;
  findingId: string | null;
  kind: string;
  enforcement: string;
  awaitingConfirmation: boolean;
  revision: number | null;
  enforcedAt: Date | null;
  verifiedRemovedAt: Date | null;
  lastError: string | null;
  /** The grant's environment: a revoke there that no proxy serves is "not enforced", not "enforced". */
  environment: string;
  /** Who decided (under the two-person rule: proposed) and who confirmed. */
  decider: string | null;
  confirmer: string | null;
  /** Replicas: the proxies (by name) that have not acknowledged it yet, e.g. "edge-b"; null once all did. */
  waitingOn: string | null;
}

export interface QueuePage {
  rows: QueueRow[];
  /** Matching findings, counted up to COUNT_CAP (see totalCapped); null is kept for callers that page by hasNext. */
  total: number | null;
  totalCapped: boolean;
  page: number;
  pageCount: number | null;
  hasNext: boolean;
}

/** Counting stops here: "2,000+" is all a reviewer needs, and it keeps the count cheap. */
const COUNT_CAP = 2_000;

// The latest decision of each finding with its delivery state (one row per finding).
const DECISION_LATERAL = Prisma.sql`
  LEFT JOIN LATERAL (
    SELECT d.id AS "decisionId", d.kind::text AS "decisionKind", d.enforcement::text AS enforcement,
      d."awaitingConfirmation", d."enforcedAt", d."verifiedRemovedAt",
      (SELECT max(o."appliedRevision") FROM "OutboxItem" o WHERE o."decisionId" = d.id)::int AS revision,
      (SELECT o."lastError" FROM "OutboxItem" o WHERE o."decisionId" = d.id AND o.status <> 'applied' AND o."lastError" IS NOT NULL LIMIT 1) AS "lastError",
      (SELECT u.name FROM "User" u WHERE u.id = d."deciderId") AS "deciderName",
      (SELECT u.name FROM "User" u WHERE u.id = d."confirmerId") AS "confirmerName",
      (SELECT string_agg(p.name, ', ' ORDER BY p.name) FROM "OutboxItem" o JOIN "Proxy" p ON p.id = o."proxyId"
        WHERE o."decisionId" = d.id AND o.status <> 'applied') AS "waitingOn"
    FROM "Decision" d WHERE d."findingId" = f.id ORDER BY d."createdAt" DESC LIMIT 1) dec ON true`;

// Findings with a two-person proposal waiting (few at any time: a scan of Decision's proposals).
const PROPOSED = Prisma.sql`f.id IN (SELECT d."findingId" FROM "Decision" d WHERE d.enforcement = 'proposed' AND d."findingId" IS NOT NULL)`;

/**
 * "Needs 2nd review": open findings with a proposal this person may confirm —
 * not their own proposal, not a grant they hold or a credential they own
 * (the same rules confirmDecision and assertNotSelfReview apply).
 */
function confirmableBy(actor: Actor): Prisma.Sql {
  if (actor.kind !== "user") return Prisma.sql`false`;
  const notMine = Prisma.sql`f.id IN (SELECT d."findingId" FROM "Decision" d WHERE d.enforcement = 'proposed' AND d."findingId" IS NOT NULL AND d."deciderId" <> ${actor.userId}::uuid)`;
  if (!actor.principalId) return notMine;
  return Prisma.sql`${notMine} AND NOT EXISTS (
    SELECT 1 FROM "Grant" g JOIN "Principal" p ON p.id = g."principalId"
    WHERE g.id = f."grantId" AND (p.id = ${actor.principalId}::uuid OR (p.kind <> 'user' AND p."managerId" = ${actor.principalId}::uuid)))`;
}

function viewFilter(actor: Actor, view: QueueQuery["view"]): Prisma.Sql {
  if (view === "open") return Prisma.sql`f.status = 'open'`;
  if (view === "confirm") return Prisma.sql`f.status = 'open' AND ${confirmableBy(actor)}`;
  // Recently decided: decisions taken, and proposals still waiting (their closedAt is null, so they sort first).
  return Prisma.sql`(f.status IN ('approved', 'revoked', 'reduced') OR (f.status = 'open' AND ${PROPOSED}))`;
}

/** How many findings wait for this person as second reviewer (the "Needs 2nd review (n)" tab); 0 for those who cannot decide. */
export async function needsSecondReviewCount(actor: Actor, client: PrismaClient = db()): Promise<number> {
  authorize(actor, "findings:read");
  if (!can(actor, "findings:decide")) return 0;
  const [{ n }] = await client.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "Finding" f WHERE f.status = 'open' AND ${confirmableBy(actor)}`;
  return n;
}

/**
 * One page of the reviewer queue: filtered, sorted and paged in SQL (partial
 * indexes on open findings keep it fast with 100,000 open findings over
 * 1,000,000 grants). "decided" shows what was decided lately with its enforcement state.
 */
export async function listQueue(actor: Actor, query: QueueQuery, client: PrismaClient = db()): Promise<QueuePage> {
  authorize(actor, "findings:read");
  const where: Prisma.Sql[] = [viewFilter(actor, query.view)];
  if (query.rule) where.push(Prisma.sql`f.rule = ${query.rule}::"FindingRule"`);
  if (query.severity) where.push(Prisma.sql`f.severity = ${query.severity}::"Severity"`);
  // API and environment are copied onto Finding (migration 0008): every filter is a column of
  // Finding, so a page is an index range (Finding_open_api_idx for an API) and the count stays cheap.
  if (query.environment) where.push(Prisma.sql`f."environmentId" = ${query.environment}::uuid`);
  // An API name is deployed once per environment: the few ids of that name.
  if (query.api) where.push(Prisma.sql`f."apiId" IN (SELECT a.id FROM "Api" a WHERE a.name = ${query.api})`);
  if (query.assignee === "unassigned") where.push(Prisma.sql`f."assigneeId" IS NULL`);
  if (query.assignee === "me") where.push(actor.kind === "user" ? Prisma.sql`f."assigneeId" = ${actor.userId}::uuid` : Prisma.sql`false`);
  const whereSql = Prisma.join(where, " AND ");
  const dir = query.dir === "asc" ? Prisma.sql`ASC` : Prisma.sql`DESC`;
  const order =
    query.view === "decided"
      ? Prisma.sql`f."closedAt" ${dir}, f.id`
      : query.sort === "opened"
        ? Prisma.sql`f."openedAt" ${dir}, f.id`
        : query.dir === "asc"
          ? Prisma.sql`f."riskScore" ASC, f."openedAt" DESC, f.id DESC`
          : Prisma.sql`f."riskScore" DESC, f."openedAt", f.id`;
  // Two steps: pick the page's finding ids from Finding alone (the common views walk a
  // partial index on open findings and stop after one page), then fetch the columns for those few rows.
  const filterFrom = Prisma.sql`FROM "Finding" f`;
  const offset = (query.page - 1) * query.perPage;
  const [rows, [{ n }]] = await Promise.all([
    client.$queryRaw<(Omit<QueueRow, "decision"> & Partial<Record<string, unknown>>)[]>`
      WITH page AS (
        SELECT f.id, row_number() OVER () AS ord FROM (
          SELECT f.id ${filterFrom} WHERE ${whereSql} ORDER BY ${order} LIMIT ${query.perPage + 1} OFFSET ${offset}) f)
      SELECT f.id, f.rule::text AS rule, f.severity::text AS severity, f."riskScore", f."openedAt", f."closedAt", f.status::text AS status,
        f.suggestion, f.evidence->>'reason' AS reason, f."assigneeId", u.name AS "assigneeName",
        g.id AS "grantId", g."lastUsedAt", s.name AS scope, s.level::text AS level, a.name AS api, a.id AS "apiId",
        e.name AS environment, p."displayName" AS principal, p.kind::text AS "principalKind", dec.*
      FROM page
      JOIN "Finding" f ON f.id = page.id
      JOIN "Grant" g ON g.id = f."grantId"
      JOIN "Scope" s ON s.id = g."scopeId"
      JOIN "Api" a ON a.id = s."apiId"
      JOIN "Environment" e ON e.id = g."environmentId"
      JOIN "Principal" p ON p.id = g."principalId"
      LEFT JOIN "User" u ON u.id = f."assigneeId"
      ${DECISION_LATERAL}
      ORDER BY page.ord`,
    // Capped: counting stops after COUNT_CAP + 1 index entries.
    client.$queryRaw<{ n: number | null }[]>`
      SELECT count(*)::int AS n FROM (SELECT 1 ${filterFrom} WHERE ${whereSql} LIMIT ${COUNT_CAP + 1}) x`,
  ]);
  const hasNext = rows.length > query.perPage;
  rows.splice(query.perPage);
  const total = n;
  return {
    rows: rows.map((r) => ({
      ...(r as unknown as QueueRow),
      decision: r.decisionId
        ? {
            decisionId: r.decisionId as string,
            findingId: r.id,
            kind: r.decisionKind as string,
            enforcement: r.enforcement as string,
            awaitingConfirmation: r.awaitingConfirmation as boolean,
            revision: (r.revision as number | null) ?? null,
            enforcedAt: (r.enforcedAt as Date | null) ?? null,
            verifiedRemovedAt: (r.verifiedRemovedAt as Date | null) ?? null,
            lastError: (r.lastError as string | null) ?? null,
            environment: r.environment,
            decider: (r.deciderName as string | null) ?? null,
            confirmer: (r.confirmerName as string | null) ?? null,
            waitingOn: (r.waitingOn as string | null) ?? null,
          }
        : null,
    })),
    total,
    totalCapped: total !== null && total > COUNT_CAP,
    page: query.page,
    pageCount: total === null ? null : Math.max(1, Math.ceil(Math.min(total, COUNT_CAP) / query.perPage)),
    hasNext,
  };
}

/** Current state of some decisions (the queue polls this until the proxies settle them, and while a proposal waits for a second reviewer). */
export async function decisionStates(actor: Actor, decisionIds: string[], client: PrismaClient = db()): Promise<DecisionState[]> {
  authorize(actor, "findings:read");
  const ids = decisionIds.filter((id) => /^[0-9a-f-]{36}$/i.test(id)).slice(0, 500);
  if (ids.length === 0) return [];
  return client.$queryRaw<DecisionState[]>`
    SELECT d.id AS "decisionId", d."findingId", d.kind::text AS kind, d.enforcement::text AS enforcement, d."awaitingConfirmation",
      d."enforcedAt", d."verifiedRemovedAt",
      (SELECT max(o."appliedRevision") FROM "OutboxItem" o WHERE o."decisionId" = d.id)::int AS revision,
      (SELECT o."lastError" FROM "OutboxItem" o WHERE o."decisionId" = d.id AND o.status <> 'applied' AND o."lastError" IS NOT NULL LIMIT 1) AS "lastError",
      e.name AS environment, du.name AS decider, cu.name AS confirmer,
      (SELECT string_agg(p.name, ', ' ORDER BY p.name) FROM "OutboxItem" o JOIN "Proxy" p ON p.id = o."proxyId"
        WHERE o."decisionId" = d.id AND o.status <> 'applied') AS "waitingOn"
    FROM "Decision" d
    JOIN "Grant" g ON g.id = d."grantId"
    JOIN "Environment" e ON e.id = g."environmentId"
    JOIN "User" du ON du.id = d."deciderId"
    LEFT JOIN "User" cu ON cu.id = d."confirmerId"
    WHERE d.id = ANY(${ids}::uuid[])`;
}

/** Filter choices for the queue toolbar. */
export async function queueFilterOptions(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "findings:read");
  const [apis, environments] = await Promise.all([
    client.api.findMany({ distinct: ["name"], select: { name: true }, orderBy: { name: "asc" } }),
    client.environment.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" } }),
  ]);
  return { apis: apis.map((a) => a.name), environments };
}
