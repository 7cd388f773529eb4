import type pg from "pg";
import type { PrismaClient, Tx } from "@/lib/db";
import type { Kind } from "./desired";

// What a source put into the database last time, joined to the rows as they are
// now (someone may have edited or revoked them since). Set-based: one query per
// kind over the source's ImportedObject rows.

export interface Mapped<T> {
  ext: string;
  objectId: string;
  goneAt: Date | null;
  attributes: unknown;
  /** The live row, or null when it was deleted outside the import. */
  row: T | null;
}

export interface LivePrincipal { id: string; displayName: string; kind: string; status: string; teamId: string | null; managerId: string | null }
export interface LiveCredential { id: string; principalId: string; hash: string; prefix: string; revokedAt: Date | null; expiresAt: Date | null }
export interface LiveApi { id: string; name: string; baseUrl: string; proxyPrefix: string | null; keyLocation: unknown; description: string | null }
export interface LiveScope { id: string; apiId: string; name: string; level: string; description: string | null; deprecatedAt: Date | null }
export interface LiveEndpoint { id: string; apiId: string; method: string; pathTemplate: string; public: boolean; summary: string | null; deprecatedAt: Date | null; requirements: string[][] }
export interface LiveGrant { id: string; principalId: string; scopeId: string; status: string; expiresAt: Date | null }

export interface LiveState {
  principal: Map<string, Mapped<LivePrincipal>>;
  credential: Map<string, Mapped<LiveCredential>>;
  api: Map<string, Mapped<LiveApi>>;
  scope: Map<string, Mapped<LiveScope>>;
  endpoint: Map<string, Mapped<LiveEndpoint>>;
  grant: Map<string, Mapped<LiveGrant>>;
}

type Client = PrismaClient | Tx;
/** A raw query returning rows: Prisma's, or a pg connection's (loadLiveStateBeside). */
type Query = <R>(sql: string, ...params: unknown[]) => Promise<R[]>;
const viaPrisma = (client: Client): Query => (sql, ...params) => client.$queryRawUnsafe(sql, ...params);

/** Timestamp columns of the live rows: JSON carries them as text, the diff compares Dates. */
const DATES = ["_goneAt", "revokedAt", "expiresAt", "deprecatedAt"] as const;
/** Rows per JSON text read. */
const LIVE_CHUNK = 2000;

async function load<T extends { id: string }>(query: Query, sourceId: string | null, kind: Kind, select: string, from: string): Promise<Map<string, Mapped<T>>> {
  const out = new Map<string, Mapped<T>>();
  if (!sourceId) return out;
  // Rows as JSON texts of LIVE_CHUNK rows each: Prisma's raw-query path converts every row and column on its own
  // (measured: most of a no-op re-plan went there); JSON.parse is several times cheaper. Not one text for all:
  // the pg driver copies a single tens-of-megabytes row many times while it arrives (~0.9 s for 150,000 rows).
  const chunks = await query<{ rows: string }>(
    `SELECT json_agg(q)::text AS rows FROM (
       SELECT (row_number() OVER ()) / ${LIVE_CHUNK} AS "_chunk", o."externalKey" AS "_ext", o."objectId"::text AS "_objectId", o."goneAt" AS "_goneAt", o.attributes AS "_attributes",
              (t.id IS NOT NULL) AS "_present", ${select}
       FROM "ImportedObject" o LEFT JOIN ${from} ON t.id = o."objectId"
       WHERE o."sourceId" = $1::uuid AND o.kind = $2) q
     GROUP BY "_chunk"`,
    sourceId,
    kind,
  );
  for (const { rows: text } of chunks) {
    const rows = JSON.parse(text) as (T & { _chunk: number; _ext: string; _objectId: string; _goneAt: Date | null; _attributes: unknown; _present: boolean })[];
    for (const r of rows) {
      const record = r as unknown as Record<string, unknown>;
      for (const k of DATES) if (typeof record[k] === "string") record[k] = new Date(record[k]);
      const { _chunk, _ext, _objectId, _goneAt, _attributes, _present, ...row } = r;
      out.set(_ext, { ext: _ext, objectId: _objectId, goneAt: _goneAt, attributes: _attributes, row: _present ? (row as unknown as T) : null });
    }
  }
  return out;
}

export async function loadLiveState(client: Client, sourceId: string | null): Promise<LiveState> {
  return loadWith(viaPrisma(client), sourceId);
}

/**
 * The same rows read on a second connection of `pool`, in the snapshot `snapshot` exported by the plan's transaction
 * (`pg_export_snapshot()`): what that transaction would read at that point, while it runs the grants' SQL. Null
 * when the pool has no connection free within SIDE_CONNECT_MS (every one may be held by transactions waiting for
 * this import's lock): the caller then reads them in its own transaction.
 */
export async function loadLiveStateBeside(pool: pg.Pool, snapshot: string, sourceId: string): Promise<LiveState | null> {
  const pending = pool.connect();
  const conn = await Promise.race([pending, new Promise<null>((resolve) => setTimeout(() => resolve(null), SIDE_CONNECT_MS).unref())]);
  if (!conn) {
    pending.then((c) => c.release(), () => undefined);
    return null;
  }
  let ok = false;
  try {
    await conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await conn.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
    const live = await loadWith(async <R>(sql: string, ...params: unknown[]) => (await conn.query(sql, params)).rows as R[], sourceId);
    await conn.query("COMMIT");
    ok = true;
    return live;
  } finally {
    // A failed read leaves its transaction open: the connection is closed rather than reused.
    conn.release(!ok);
  }
}

/** How long the plan waits for a second connection before it reads the live rows in its own transaction. */
const SIDE_CONNECT_MS = 1_000;

async function loadWith(query: Query, sourceId: string | null): Promise<LiveState> {
  // Sequential on purpose: one connection runs one query at a time anyway.
  const principal = await load<LivePrincipal>(query, sourceId, "principal", `t.id::text AS id, t."displayName", t.kind::text AS kind, t.status::text AS status, t."teamId"::text AS "teamId", t."managerId"::text AS "managerId"`, `"Principal" t`);
  const credential = await load<LiveCredential>(query, sourceId, "credential", `t.id::text AS id, t."principalId"::text AS "principalId", t.hash, t.prefix, t."revokedAt", t."expiresAt"`, `"Credential" t`);
  const api = await load<LiveApi>(query, sourceId, "api", `t.id::text AS id, t.name, t."baseUrl", t."proxyPrefix", t."keyLocation", t.description`, `"Api" t`);
  const scope = await load<LiveScope>(query, sourceId, "scope", `t.id::text AS id, t."apiId"::text AS "apiId", t.name, t.level::text AS level, t.description, t."deprecatedAt"`, `"Scope" t`);
  const endpoint = await load<LiveEndpoint>(
    query,
    sourceId,
    "endpoint",
    `t.id::text AS id, t."apiId"::text AS "apiId", t.method, t."pathTemplate", t.public, t.summary, t."deprecatedAt",
     coalesce((SELECT json_agg(r.ids) FROM (
                SELECT array_agg(es."scopeId"::text ORDER BY es."scopeId") AS ids
                FROM "EndpointScope" es WHERE es."endpointId" = t.id
                GROUP BY es."requirementId") r), '[]'::json) AS requirements`,
    `"Endpoint" t`,
  );
  // Grants are never loaded here: they are planned in SQL (grant-plan.ts), a million rows would not fit.
  const grant = new Map<string, Mapped<LiveGrant>>();
  return { principal, credential, api, scope, endpoint, grant };
}
