import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";

export interface ApiSummary {
  id: string;
  name: string;
  description: string | null;
  baseUrl: string;
  environment: string;
  team: string | null;
  endpoints: number;
  scopes: number;
  activeGrants: number;
}

export async function listApis(actor: Actor, client: PrismaClient = db()): Promise<ApiSummary[]> {
  authorize(actor, "inventory:read");
  return client.$queryRaw<ApiSummary[]>`
    SELECT a.id, a.name, a.description, a."baseUrl", e.name AS environment, t.name AS team,
      (SELECT count(*) FROM "Endpoint" x WHERE x."apiId" = a.id)::int AS endpoints,
      (SELECT count(*) FROM "Scope" x WHERE x."apiId" = a.id)::int AS scopes,
      coalesce(gc.n, 0)::int AS "activeGrants"
    FROM "Api" a
    JOIN "Environment" e ON e.id = a."environmentId"
    LEFT JOIN "Team" t ON t.id = a."teamId"
    LEFT JOIN (
      SELECT s."apiId", count(*) AS n FROM "Grant" g JOIN "Scope" s ON s.id = g."scopeId"
      WHERE g.status = 'active' GROUP BY s."apiId"
    ) gc ON gc."apiId" = a.id
    ORDER BY a.name, CASE e.tier WHEN 'production' THEN 0 WHEN 'staging' THEN 1 ELSE 2 END`;
}

/** The API's own fields as the list shows them, plus its endpoints and scopes. */
export interface ApiDetail extends Pick<ApiSummary, "id" | "name" | "description" | "baseUrl" | "environment" | "team"> {
  endpoints: {
    id: string;
    method: string;
    pathTemplate: string;
    sensitivity: string;
    public: boolean;
    deprecated: boolean;
    /** Every scope the endpoint's requirements mention. */
    scopes: { id: string; name: string; level: string }[];
    /** Alternatives (OR) of scope sets (AND), as OpenAPI states them; sorted by name. */
    requirements: { id: string; name: string; level: string }[][];
  }[];
  scopes: {
    id: string;
    name: string;
    level: "read" | "write" | "admin";
    /** Why the import chose the level, and who overrode it (null: still the import's). */
    levelEvidence: string[];
    levelSetBy: string | null;
    description: string | null;
    activeGrants: number;
    /** The most recently active holders (up to HOLDERS_SHOWN); the grants page lists them all. */
    holders: { grantId: string; principalId: string; displayName: string; kind: string; principalStatus: string; lastUsedAt: Date | null }[];
  }[];
}

export const HOLDERS_SHOWN = 15;

/** One API with its endpoints and, per scope, who holds it. Null for an unknown or malformed id. */
export async function getApi(actor: Actor, id: string, client: PrismaClient = db()): Promise<ApiDetail | null> {
  authorize(actor, "inventory:read");
  if (!z.guid().safeParse(id).success) return null;
  const api = await client.api.findUnique({
    where: { id },
    include: {
      environment: { select: { name: true } },
      team: { select: { name: true } },
      endpoints: { orderBy: [{ pathTemplate: "asc" }, { method: "asc" }], include: { scopes: { include: { scope: { select: { id: true, name: true, level: true } } } } } },
      scopes: { orderBy: [{ level: "asc" }, { name: "asc" }] },
    },
  });
  if (!api) return null;
  const holders = await client.$queryRaw<(ApiDetail["scopes"][number]["holders"][number] & { scopeId: string })[]>`
    SELECT s.id AS "scopeId", h.*
    FROM "Scope" s
    CROSS JOIN LATERAL (
      SELECT g.id AS "grantId", p.id AS "principalId", p."displayName", p.kind::text AS kind, p.status::text AS "principalStatus", g."lastUsedAt"
      FROM "Grant" g JOIN "Principal" p ON p.id = g."principalId"
      WHERE g."scopeId" = s.id AND g.status = 'active'
      ORDER BY g."lastUsedAt" DESC NULLS LAST, g.id
      LIMIT ${HOLDERS_SHOWN}
    ) h
    WHERE s."apiId" = ${id}::uuid`;
  const counts = await client.$queryRaw<{ scopeId: string; n: number }[]>`
    SELECT g."scopeId", count(*)::int AS n FROM "Grant" g JOIN "Scope" s ON s.id = g."scopeId"
    WHERE s."apiId" = ${id}::uuid AND g.status = 'active' GROUP BY 1`;
  const countBy = new Map(counts.map((c) => [c.scopeId, c.n]));
  const levelOrder = { read: 0, write: 1, admin: 2 } as const;
  return {
    id: api.id,
    name: api.name,
    description: api.description,
    baseUrl: api.baseUrl,
    environment: api.environment.name,
    team: api.team?.name ?? null,
    endpoints: api.endpoints.map((e) => ({
      id: e.id, method: e.method, pathTemplate: e.pathTemplate, sensitivity: e.sensitivity, public: e.public, deprecated: e.deprecatedAt !== null,
      scopes: [...new Map(e.scopes.map((s) => [s.scope.id, s.scope])).values()].sort((a, b) => a.name.localeCompare(b.name)),
      requirements: requirementSets(e.scopes),
    })),
    scopes: api.scopes
      .map((s) => ({
        id: s.id, name: s.name, level: s.level, description: s.description, activeGrants: countBy.get(s.id) ?? 0,
        levelEvidence: Array.isArray(s.levelEvidence) ? s.levelEvidence.map(String) : [], levelSetBy: s.levelSetBy,
        holders: holders.filter((h) => h.scopeId === s.id).map(({ scopeId: _unused, ...h }) => h),
      }))
      .sort((a, b) => levelOrder[a.level] - levelOrder[b.level] || a.name.localeCompare(b.name)),
  };
}

/** Options for the grants filter bar: every API (with its environment) and, for one API, its scopes. */
export async function getGrantFilterOptions(actor: Actor, apiId: string | undefined, client: PrismaClient = db()) {
  authorize(actor, "inventory:read");
  const [apis, environments, scopes] = await Promise.all([
    client.api.findMany({ select: { id: true, name: true, environment: { select: { name: true } } }, orderBy: [{ name: "asc" }] }),
    client.environment.findMany({ select: { name: true, tier: true }, orderBy: { name: "asc" } }),
    apiId ? client.scope.findMany({ where: { apiId }, select: { id: true, name: true }, orderBy: { name: "asc" } }) : Promise.resolve([]),
  ]);
  return {
    apis: apis.map((a) => ({ id: a.id, label: `${a.name} · ${a.environment.name}` })),
    environments: environments.map((e) => e.name),
    scopes: scopes.map((s) => ({ id: s.id, label: s.name })),
  };
}

type ScopeRef = { id: string; name: string; level: string };

/** EndpointScope rows grouped by requirementId into sets, each sorted by name, the sets too. */
function requirementSets(rows: { requirementId: string; scope: ScopeRef }[]): ScopeRef[][] {
  const sets = new Map<string, ScopeRef[]>();
  for (const r of rows) sets.set(r.requirementId, [...(sets.get(r.requirementId) ?? []), r.scope]);
  const key = (set: ScopeRef[]) => set.map((s) => s.name).join("\u0000");
  return [...sets.values()].map((set) => set.sort((a, b) => a.name.localeCompare(b.name))).sort((a, b) => key(a).localeCompare(key(b)));
}
