import type { PrismaClient, Tx } from "@/lib/db";
import { groupSets } from "@/proxy/requirements";
import type { InventoryState } from "./diff";
import type { Level } from "./extract";

/** One API's endpoints and scopes, in a stable order (the plan hash depends on it). */
export async function loadInventoryState(client: PrismaClient | Tx, apiId: string | null): Promise<InventoryState> {
  if (!apiId) return { endpoints: [], scopes: [] };
  const [endpoints, scopes, grantCounts] = await Promise.all([
    client.endpoint.findMany({
      where: { apiId },
      orderBy: [{ method: "asc" }, { pathTemplate: "asc" }],
      select: { id: true, method: true, pathTemplate: true, summary: true, public: true, deprecatedAt: true, scopes: { select: { requirementId: true, scope: { select: { name: true } } } } },
    }),
    client.scope.findMany({ where: { apiId }, orderBy: { name: "asc" } }),
    client.$queryRaw<{ scopeId: string; active: bigint; total: bigint }[]>`
      SELECT g."scopeId", count(*) FILTER (WHERE g.status = 'active') AS active, count(*) AS total
      FROM "Grant" g JOIN "Scope" s ON s.id = g."scopeId"
      WHERE s."apiId" = ${apiId}::uuid GROUP BY g."scopeId"`,
  ]);
  const counts = new Map(grantCounts.map((c) => [c.scopeId, c]));
  return {
    endpoints: endpoints.map((e) => ({
      id: e.id,
      method: e.method,
      pathTemplate: e.pathTemplate,
      summary: e.summary,
      public: e.public,
      deprecatedAt: e.deprecatedAt?.toISOString() ?? null,
      scopeNames: [...new Set(e.scopes.map((s) => s.scope.name))].sort(),
      requirements: groupSets(e.scopes, (s) => s.requirementId, (s) => s.scope.name),
    })),
    scopes: scopes.map((s) => ({
      id: s.id,
      name: s.name,
      level: s.level as Level,
      description: s.description,
      deprecatedAt: s.deprecatedAt?.toISOString() ?? null,
      activeGrants: Number(counts.get(s.id)?.active ?? 0),
      anyGrants: Number(counts.get(s.id)?.total ?? 0),
    })),
  };
}
