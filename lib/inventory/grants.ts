import { authorize, type Actor } from "@/lib/auth/actor";
import { db, Prisma, type PrismaClient } from "@/lib/db";
import { COUNT_CAP, parseGrantsQuery, type GrantSort, type GrantsFilterKey, type GrantsQuery } from "./grants-params";

export interface GrantRow {
  id: string;
  status: "active" | "revoked" | "expired";
  grantedAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  principalId: string;
  principalName: string;
  principalKind: "user" | "service_account" | "api_key";
  principalStatus: "active" | "suspended" | "deprovisioned";
  principalExternalId: string | null;
  scopeId: string;
  scopeName: string;
  scopeLevel: "read" | "write" | "admin";
  apiId: string;
  apiName: string;
  environment: string;
}

export interface GrantPage {
  rows: GrantRow[];
  /**
   * Matching rows, counted up to COUNT_CAP + 1; null when counting did not
   * finish within COUNT_BUDGET_MS (a rare filter combination over a huge
   * inventory): the page then says "many" and pages with `hasNext`.
   */
  total: number | null;
  /** True when more than COUNT_CAP rows match (shown as "10,000+"). */
  totalCapped: boolean;
  /** Whether a next page exists (known even when the total is not). */
  hasNext: boolean;
  page: number;
  /** Null when the total is unknown. */
  pageCount: number | null;
  query: GrantsQuery;
}

/** How long the count may take before the page is shown without it. */
export const COUNT_BUDGET_MS = 300;

/**
 * ORDER BY for each sortable column. The tie-breaker on g.id runs in the same
 * direction as the index it rides on, so Postgres can walk the index
 * (Grant_grantedAt_id_idx, Grant_lastUsedAt_nf_id_idx, ...) and stop after one
 * page instead of sorting every match.
 */
const ORDER: Record<GrantSort, { asc: string; desc: string }> = {
  grantedAt: { asc: `g."grantedAt" ASC, g.id DESC`, desc: `g."grantedAt" DESC, g.id ASC` },
  // "Least recently used" first on asc: never-used rows count as oldest.
  lastUsedAt: { asc: `g."lastUsedAt" ASC NULLS FIRST, g.id ASC`, desc: `g."lastUsedAt" DESC NULLS LAST, g.id DESC` },
  expiresAt: { asc: `g."expiresAt" ASC NULLS LAST, g.id ASC`, desc: `g."expiresAt" DESC NULLS FIRST, g.id DESC` },
  // Principal/scope ids group each name's rows so only one group needs sorting by g.id.
  principal: { asc: `p."displayName" ASC, p.id ASC, g.id ASC`, desc: `p."displayName" DESC, p.id DESC, g.id DESC` },
  scope: { asc: `s.name ASC, s.id ASC, g.id ASC`, desc: `s.name DESC, s.id DESC, g.id DESC` },
};

/** LIKE pattern that treats the user's text literally. */
const likeEscape = (s: string) => s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);

/** Above this many matching principals, the search stays a subquery rather than an id list. */
const SEARCH_ID_LIMIT = 500;

/**
 * Principals matching the free-text search. Returned as an id list when it is
 * short, because Postgres then knows how few grants to look up (it cannot
 * estimate a LIKE '%..%' and would otherwise scan the grants in sort order).
 */
async function searchPrincipals(client: PrismaClient, text: string): Promise<Prisma.Sql> {
  // "contains" covers "starts with" too, so one pattern per column.
  const contains = `%${likeEscape(text)}%`;
  const match = Prisma.sql`SELECT id FROM "Principal"
    WHERE lower("displayName") LIKE ${contains} OR lower("externalId") LIKE ${contains} OR lower(email) LIKE ${contains}`;
  const ids = await client.$queryRaw<{ id: string }[]>`${match} LIMIT ${SEARCH_ID_LIMIT + 1}`;
  if (ids.length > SEARCH_ID_LIMIT) return Prisma.sql`g."principalId" IN (${match})`;
  return Prisma.sql`g."principalId" = ANY(${ids.map((r) => r.id)}::uuid[])`;
}

function whereClause(q: GrantsFilters, search: Prisma.Sql | undefined): { sql: Prisma.Sql; needsPrincipal: boolean; needsScope: boolean; needsEnv: boolean } {
  const parts: Prisma.Sql[] = [];
  let needsPrincipal = false;
  let needsScope = false;
  let needsEnv = false;
  if (q.status) parts.push(Prisma.sql`g.status = ${q.status}::"GrantStatus"`);
  if (q.scope) parts.push(Prisma.sql`g."scopeId" = ${q.scope}::uuid`);
  if (q.principal) parts.push(Prisma.sql`g."principalId" = ${q.principal}::uuid`);
  if (q.api) {
    needsScope = true;
    parts.push(Prisma.sql`s."apiId" = ${q.api}::uuid`);
  }
  if (q.level) {
    needsScope = true;
    parts.push(Prisma.sql`s.level = ${q.level}::"ScopeLevel"`);
  }
  if (q.environment) {
    needsEnv = true;
    parts.push(Prisma.sql`e.name = ${q.environment}`);
  }
  if (q.kind) {
    needsPrincipal = true;
    parts.push(Prisma.sql`p.kind = ${q.kind}::"PrincipalKind"`);
  }
  switch (q.lastUsed) {
    case "never":
      parts.push(Prisma.sql`g."lastUsedAt" IS NULL`);
      break;
    case "lt7":
      parts.push(Prisma.sql`g."lastUsedAt" >= now() - interval '7 days'`);
      break;
    case "7to30":
      parts.push(Prisma.sql`g."lastUsedAt" < now() - interval '7 days' AND g."lastUsedAt" >= now() - interval '30 days'`);
      break;
    case "30to90":
      parts.push(Prisma.sql`g."lastUsedAt" < now() - interval '30 days' AND g."lastUsedAt" >= now() - interval '90 days'`);
      break;
    case "gt90":
      parts.push(Prisma.sql`g."lastUsedAt" < now() - interval '90 days'`);
      break;
  }
  if (search) parts.push(search);
  const sql = parts.length ? Prisma.sql`WHERE ${Prisma.join(parts, " AND ")}` : Prisma.empty;
  return { sql, needsPrincipal, needsScope, needsEnv };
}

export type GrantsFilters = Partial<Pick<GrantsQuery, GrantsFilterKey>>;

/**
 * The grants table's filters as a WHERE clause over g (Grant), p (Principal), s (Scope)
 * and e (Environment), for other readers of the same filters (the inventory API's list).
 */
export async function grantsWhere(client: PrismaClient, q: GrantsFilters): Promise<Prisma.Sql> {
  return whereClause(q, q.q ? await searchPrincipals(client, q.q) : undefined).sql;
}

/**
 * One page of the grants table. Filters, sort and pagination all run in SQL;
 * the count stops at COUNT_CAP + 1 so it stays cheap on a million grants.
 * Accepts either a parsed query or raw URL search params (parsed leniently).
 */
export async function listGrants(
  actor: Actor,
  params: GrantsQuery | URLSearchParams | Record<string, string | string[] | undefined>,
  client: PrismaClient = db(),
  opts: { countBudgetMs?: number } = {},
): Promise<GrantPage> {
  authorize(actor, "inventory:read");
  const query = isParsed(params) ? params : parseGrantsQuery(params);
  const where = whereClause(query, query.q ? await searchPrincipals(client, query.q) : undefined);
  const order = Prisma.raw(ORDER[query.sort][query.dir]);

  // The count joins only what the filters need (Postgres cannot drop inner joins by itself).
  const countJoins = Prisma.sql`
    ${where.needsPrincipal ? Prisma.sql`JOIN "Principal" p ON p.id = g."principalId"` : Prisma.empty}
    ${where.needsScope ? Prisma.sql`JOIN "Scope" s ON s.id = g."scopeId"` : Prisma.empty}
    ${where.needsEnv ? Prisma.sql`JOIN "Environment" e ON e.id = g."environmentId"` : Prisma.empty}`;
  const countSql = Prisma.sql`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM "Grant" g ${countJoins} ${where.sql} LIMIT ${COUNT_CAP + 1}) t`;
  // statement_timeout bounds the count; SET LOCAL keeps it inside this transaction.
  const countPromise = client
    .$transaction([client.$executeRawUnsafe(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(opts.countBudgetMs ?? COUNT_BUDGET_MS))}`), client.$queryRaw<{ n: number }[]>(countSql)])
    .then(([, r]) => r[0].n)
    .catch((e: unknown) => {
      if (isQueryCanceled(e)) return null;
      throw e;
    });

  // One row more than the page shows tells whether a next page exists.
  const fetchPage = (page: number) => client.$queryRaw<GrantRow[]>`
    SELECT g.id, g.status::text AS status, g."grantedAt", g."expiresAt", g."lastUsedAt", g."revokedAt",
      p.id AS "principalId", p."displayName" AS "principalName", p.kind::text AS "principalKind",
      p.status::text AS "principalStatus", p."externalId" AS "principalExternalId",
      s.id AS "scopeId", s.name AS "scopeName", s.level::text AS "scopeLevel",
      a.id AS "apiId", a.name AS "apiName", e.name AS environment
    FROM "Grant" g
    JOIN "Principal" p ON p.id = g."principalId"
    JOIN "Scope" s ON s.id = g."scopeId"
    JOIN "Api" a ON a.id = s."apiId"
    JOIN "Environment" e ON e.id = g."environmentId"
    ${where.sql}
    ORDER BY ${order}
    LIMIT ${query.perPage + 1} OFFSET ${(page - 1) * query.perPage}`;

  const [n, firstTry] = await Promise.all([countPromise, fetchPage(query.page)]);
  const pageCount = n === null ? null : Math.max(1, Math.ceil(Math.min(n, COUNT_CAP) / query.perPage));
  // A page past the end (an old link, a hand-edited URL) shows the last page instead of nothing.
  const page = pageCount !== null && query.page > pageCount ? pageCount : query.page;
  const fetched = page === query.page ? firstTry : await fetchPage(page);
  return {
    rows: fetched.slice(0, query.perPage),
    total: n,
    totalCapped: n !== null && n > COUNT_CAP,
    hasNext: fetched.length > query.perPage && (pageCount === null || page < pageCount),
    page,
    pageCount,
    query: { ...query, page },
  };
}

/** Postgres "canceling statement due to statement timeout" (57014), as surfaced through Prisma. */
function isQueryCanceled(e: unknown): boolean {
  const text = e instanceof Error ? `${e.message} ${JSON.stringify((e as { meta?: unknown }).meta ?? {})}` : String(e);
  return /57014|statement timeout|canceling statement/i.test(text);
}

function isParsed(p: unknown): p is GrantsQuery {
  return typeof p === "object" && p !== null && !(p instanceof URLSearchParams) && typeof (p as GrantsQuery).page === "number";
}
