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

/** Timestamp columns of the live rows: JSON carries them as text, the diff compares Dates. */
const DATES = ["_goneAt", "revokedAt", "expiresAt", "deprecatedAt"] as const;
/** Rows per JSON text read. */
const LIVE_CHUNK = 2000;

async function load<T extends { id: string }>(client: Client, sourceId: string | null, kind: Kind, select: string, from: string): Promise<Map<string, Mapped<T>>> {
  const out = new Map<string, Mapped<T>>();
  if (!sourceId) return out;
  // Rows as JSON texts of LIVE_CHUNK rows each: Prisma's raw-query path converts every row and column on its own
  // (measured: most of a no-op re-plan went there); JSON.parse is several times cheaper. Not one text for all:
  // the pg driver copies a single tens-of-megabytes row many times while it arrives (~0.9 s for 150,000 rows).
  const chunks = await client.$queryRawUnsafe<{ rows: string }[]>(
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
  // Sequential on purpose: inside a transaction Prisma runs one query at a time anyway.
  const principal = await load<LivePrincipal>(client, sourceId, "principal", `t.id::text AS id, t."displayName", t.kind::text AS kind, t.status::text AS status, t."teamId"::text AS "teamId", t."managerId"::text AS "managerId"`, `"Principal" t`);
  const credential = await load<LiveCredential>(client, sourceId, "credential", `t.id::text AS id, t."principalId"::text AS "principalId", t.hash, t.prefix, t."revokedAt", t."expiresAt"`, `"Credential" t`);
  const api = await load<LiveApi>(client, sourceId, "api", `t.id::text AS id, t.name, t."baseUrl", t."proxyPrefix", t."keyLocation", t.description`, `"Api" t`);
  const scope = await load<LiveScope>(client, sourceId, "scope", `t.id::text AS id, t."apiId"::text AS "apiId", t.name, t.level::text AS level, t.description, t."deprecatedAt"`, `"Scope" t`);
  const endpoint = await load<LiveEndpoint>(
    client,
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
