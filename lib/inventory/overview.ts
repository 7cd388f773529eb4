import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";

export const AGE_BUCKETS = ["< 7 days", "7–30 days", "30–90 days", "> 90 days", "never used"] as const;
export type AgeBucket = (typeof AGE_BUCKETS)[number];

export interface Overview {
  apis: number;
  endpoints: number;
  principals: number;
  activeGrants: number;
  /** Active grants whose last use (or, if never used, whose grant date) is more than 90 days ago. */
  unusedGrants90d: number;
  /** Active grants per environment and last-use age, one object per environment (recharts' stacked-bar shape). */
  byEnvironment: ({ environment: string } & Record<AgeBucket, number>)[];
  /**
   * Where access came from (issue 22): active grants given through Tollgate (approved requests), active grants
   * imported from a source as reviewed baseline, and grants a re-import showed were given at the gateway outside
   * review (ever; `rolledBack` of them revoked by a source's automatic rollback).
   */
  grantOrigins: { throughTollgate: number; imported: number; outsideReview: number; rolledBack: number };
}

export async function getOverview(actor: Actor, client: PrismaClient = db()): Promise<Overview> {
  authorize(actor, "inventory:read");
  const [figures, buckets, origins] = await Promise.all([
    client.$queryRaw<Omit<Overview, "byEnvironment" | "grantOrigins">[]>`
      SELECT (SELECT count(*) FROM "Api")::int AS apis,
             (SELECT count(*) FROM "Endpoint")::int AS endpoints,
             (SELECT count(*) FROM "Principal")::int AS principals,
             (SELECT count(*) FROM "Grant" WHERE status = 'active')::int AS "activeGrants",
             (SELECT count(*) FROM "Grant" WHERE status = 'active'
                AND coalesce("lastUsedAt", "grantedAt") < now() - interval '90 days')::int AS "unusedGrants90d"`,
    client.$queryRaw<{ environment: string; tier: string; bucket: AgeBucket; n: number }[]>`
      SELECT e.name AS environment, e.tier::text AS tier, b.bucket, count(*)::int AS n
      FROM "Grant" g
      JOIN "Environment" e ON e.id = g."environmentId"
      CROSS JOIN LATERAL (SELECT CASE
          WHEN g."lastUsedAt" IS NULL THEN 'never used'
          WHEN g."lastUsedAt" >= now() - interval '7 days' THEN '< 7 days'
          WHEN g."lastUsedAt" >= now() - interval '30 days' THEN '7–30 days'
          WHEN g."lastUsedAt" >= now() - interval '90 days' THEN '30–90 days'
          ELSE '> 90 days' END AS bucket) b
      WHERE g.status = 'active'
      GROUP BY 1, 2, 3`,
    client.$queryRaw<Overview["grantOrigins"][]>`
      WITH outside AS (SELECT DISTINCT "grantId" FROM "Finding" WHERE rule = 'granted_outside_review')
      SELECT (SELECT count(*) FROM "Grant" WHERE status = 'active' AND origin = 'request')::int AS "throughTollgate",
             (SELECT count(*) FROM "Grant" g WHERE g.status = 'active' AND g.origin = 'import'
                AND NOT EXISTS (SELECT 1 FROM outside o WHERE o."grantId" = g.id))::int AS imported,
             (SELECT count(*) FROM outside)::int AS "outsideReview",
             (SELECT count(DISTINCT "grantId") FROM "Decision"
                WHERE automation = 'import_rollback' AND discard IS NULL AND enforcement <> 'proposed')::int AS "rolledBack"`,
  ]);
  const tierOrder = ["production", "staging", "development"];
  const envs = [...new Map(buckets.map((b) => [b.environment, b.tier])).entries()].sort(
    (a, b) => tierOrder.indexOf(a[1]) - tierOrder.indexOf(b[1]) || a[0].localeCompare(b[0]),
  );
  const byEnvironment = envs.map(([environment]) => {
    const row = { environment } as Overview["byEnvironment"][number];
    for (const bucket of AGE_BUCKETS) row[bucket] = 0;
    for (const b of buckets) if (b.environment === environment) row[b.bucket] = b.n;
    return row;
  });
  return { ...figures[0], byEnvironment, grantOrigins: origins[0] };
}
