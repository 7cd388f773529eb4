import { z } from "zod";
import { plainText } from "@/lib/validation/text";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { badRequest, fromZod, notFound } from "@/lib/errors";
import { assignPrefixes, type KeyLocation } from "./prefixes";
import { digestSnapshot, digestSnapshotAsync, snapshotParts, type StateDigest } from "./digest";
import { canonicalRequirements } from "@/proxy/requirements";

/**
 * The full enforcement state of one environment, in the shape of the proxy's
 * `PUT /admin/v1/snapshot` body (docs/ARCHITECTURE.md). Read with a few
 * set-based queries in one REPEATABLE READ transaction so the parts agree.
 *
 * An API's proxy prefix is derived from its name ("Orders API" -> "/orders-api"),
 * made unique within the environment; its upstream is its baseUrl. APIs whose
 * baseUrl is not an http(s) URL, and endpoints whose template the proxy cannot
 * match, are left out (listed in `skipped`) rather than failing the whole pull.
 */

export interface ProxySnapshot {
  revision: number;
  environment: string;
  apis: { id: string; name: string; prefix: string; upstream: string; keyLocation?: KeyLocation }[];
  /**
   * `requirements`: the endpoint's alternatives (OR) of scope-id sets (AND), canonical
   * (proxy/requirements.ts: ids sorted within each set, sets sorted, no duplicates).
   * `[]` = no alternative: protected with no scope, refused until one is assigned.
   */
  routes: { id: string; apiId: string; method: string; pathTemplate: string; requirements: string[][]; public: boolean }[];
  credentials: { id: string; principalId: string; hash: string; expiresAt: string | null }[];
  grants: { id: string; principalId: string; scopeId: string; expiresAt: string | null }[];
  skipped: { kind: "api" | "route"; id: string; reason: string }[];
}

// The proxy's template grammar (proxy/schemas.ts PATH_TEMPLATE): a last "{rest*}" matches any remainder.
const TEMPLATE =
  /^(?:\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\})?(\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\}))*\/?|(\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\}))*\/\{[A-Za-z0-9_.-]+\*\})$/;
const query = z.object({ environment: plainText(200) });

export { apiPrefix } from "./prefixes";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An upstream the proxy can forward to: http(s), with no query or fragment. */
export function httpUrl(u: string): boolean {
  try {
    const p = new URL(u);
    return (p.protocol === "http:" || p.protocol === "https:") && !p.search && !p.hash;
  } catch {
    return false;
  }
}

export async function buildProxySnapshot(actor: Actor, input: { environment: string | null }, client: PrismaClient = db()): Promise<ProxySnapshot> {
  authorize(actor, "proxy:sync");
  const parsed = query.safeParse(input);
  if (!parsed.success) throw input.environment ? fromZod(parsed.error) : badRequest("environment: is required", "environment");
  const envName = parsed.data.environment;

  return client.$transaction(
    async (tx) => {
      const env = await tx.environment.findUnique({ where: { name: envName }, select: { id: true } });
      if (!env) throw notFound("Environment");
      const skipped: ProxySnapshot["skipped"] = [];

      const apiRows = await tx.$queryRaw<{ id: string; name: string; baseUrl: string; proxyPrefix: string | null; keyLocation: KeyLocation | null }[]>`
        SELECT id, name, "baseUrl", "proxyPrefix", "keyLocation" FROM "Api" WHERE "environmentId" = ${env.id}::uuid ORDER BY name, id`;
      const apis: ProxySnapshot["apis"] = [];
      const reachable = apiRows.filter((a) => {
        if (httpUrl(a.baseUrl)) return true;
        skipped.push({ kind: "api", id: a.id, reason: "baseUrl is not an http(s) URL" });
        return false;
      });
      const prefixes = assignPrefixes(reachable);
      for (const a of reachable) {
        apis.push({ id: a.id, name: a.name, prefix: prefixes.get(a.id)!, upstream: a.baseUrl.replace(/\/+$/, ""), ...(a.keyLocation ? { keyLocation: a.keyLocation } : {}) });
      }
      const apiIds = new Set(apis.map((a) => a.id));

      // One row per endpoint; its alternatives as a JSON array of scope-id arrays (one per requirementId).
      const routeRows = await tx.$queryRaw<{ id: string; apiId: string; method: string; pathTemplate: string; public: boolean; requirements: string[][] }[]>`
        SELECT e.id, e."apiId", e.method, e."pathTemplate", e.public,
               coalesce((SELECT json_agg(r.ids) FROM (
                          SELECT array_agg(es."scopeId"::text ORDER BY es."scopeId") AS ids
                          FROM "EndpointScope" es WHERE es."endpointId" = e.id
                          GROUP BY es."requirementId") r), '[]'::json) AS requirements
        FROM "Endpoint" e
        JOIN "Api" a ON a.id = e."apiId"
        WHERE a."environmentId" = ${env.id}::uuid
          AND e."routingStoppedAt" IS NULL -- a zombie an admin stopped routing (lib/discovery/zombies.ts): unknown to the proxy`;
      const routes: ProxySnapshot["routes"] = [];
      for (const r of routeRows) {
        if (!apiIds.has(r.apiId)) continue;
        const method = r.method.toUpperCase();
        if (!/^[A-Z]{1,16}$/.test(method) || !TEMPLATE.test(r.pathTemplate)) {
          skipped.push({ kind: "route", id: r.id, reason: "method or path template not enforceable" });
          continue;
        }
        routes.push({ id: r.id, apiId: r.apiId, method, pathTemplate: r.pathTemplate, requirements: canonicalRequirements(r.requirements), public: r.public });
      }

      const credRows = await tx.$queryRaw<{ id: string; principalId: string; hash: string; expiresAt: Date | null }[]>`
        SELECT c.id, c."principalId", c.hash, c."expiresAt"
        FROM "Credential" c JOIN "Principal" p ON p.id = c."principalId"
        WHERE c."revokedAt" IS NULL AND p.status = 'active' AND (c."expiresAt" IS NULL OR c."expiresAt" > now())
          AND c.hash ~ '^[0-9a-f]{64}$'`;
      const grantRows = await tx.$queryRaw<{ id: string; principalId: string; scopeId: string; expiresAt: Date | null }[]>`
        SELECT g.id, g."principalId", g."scopeId", g."expiresAt"
        FROM "Grant" g JOIN "Principal" p ON p.id = g."principalId"
        WHERE g."environmentId" = ${env.id}::uuid AND g.status = 'active' AND p.status = 'active'
          AND (g."expiresAt" IS NULL OR g."expiresAt" > now())`;

      return {
        revision: Date.now(),
        environment: envName,
        apis,
        routes,
        credentials: credRows.map((c) => ({ id: c.id, principalId: c.principalId, hash: c.hash, expiresAt: iso(c.expiresAt) })),
        grants: grantRows.map((g) => ({ id: g.id, principalId: g.principalId, scopeId: g.scopeId, expiresAt: iso(g.expiresAt) })),
        skipped,
      };
    },
    { isolationLevel: "RepeatableRead", timeout: 120_000 },
  );
}

/**
 * The snapshot as NDJSON (what a proxy asks for with `Accept: application/x-ndjson`):
 * a header line with the revision, environment, line counts per kind (so the
 * reader can tell a cut stream from a complete one) and skipped items, then one
 * `{"kind","value"}` line per API, route, credential and grant, in that order.
 * Yielded in chunks of about 64 KB, so the response streams and a million-grant
 * state never becomes one 200 MB string on either side.
 */
/** The header's `digest` (asOf and one digest per kind): compute it with snapshotDigest first to keep the event loop free. */
export interface SnapshotDigest {
  asOf: number;
  kinds: Record<"api" | "route" | "credential" | "grant", string>;
}
const headerDigest = (asOf: number, d: StateDigest): SnapshotDigest => ({ asOf, kinds: { api: d.api.digest, route: d.route.digest, credential: d.credential.digest, grant: d.grant.digest } });

/** The content digest a streamed snapshot announces, computed without holding the event loop. */
export async function snapshotDigest(s: ProxySnapshot): Promise<SnapshotDigest> {
  const asOf = Date.now();
  return headerDigest(asOf, await digestSnapshotAsync(s, asOf));
}

export function* snapshotNdjson(s: ProxySnapshot, idempotencyKey?: string, ifRevision?: number, precomputed?: SnapshotDigest): Generator<string> {
  // A push (PUT /admin/v1/snapshot) carries its idempotency key in the header line, and
  // from drift repair the proxy revision it was computed against; a pull carries neither.
  const counts = { apis: s.apis.length, routes: s.routes.length, credentials: s.credentials.length, grants: s.grants.length };
  // The content digest (lib/enforcement/digest.ts): the proxy recomputes it over what it
  // received and refuses a stream that does not match, so what it serves is verified end to end.
  let digest = precomputed;
  if (!digest) {
    const asOf = Date.now();
    digest = headerDigest(asOf, digestSnapshot(s, asOf));
  }
  let buf = JSON.stringify({ ...(idempotencyKey ? { idempotencyKey } : {}), ...(ifRevision !== undefined ? { ifRevision } : {}), digest, revision: s.revision, environment: s.environment, counts, skipped: s.skipped }) + "\n";
  for (const [kind, values] of snapshotParts(s)) {
    for (const value of values) {
      buf += `{"kind":"${kind}","value":${JSON.stringify(value)}}\n`;
      if (buf.length >= 65_536) {
        yield buf;
        buf = "";
      }
    }
  }
  yield buf;
}
