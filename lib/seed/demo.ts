import bcrypt from "bcryptjs";
import type { PrismaClient } from "@/lib/db";
import { buildDemo, type DemoRows } from "./build-demo";
import { DEMO_PASSWORD, DEMO_USERS, PLANTED } from "./planted";

export { PLANTED, DEMO_USERS, DEMO_PASSWORD };
export type { PlantedCase, PlantedCaseName, PlantedGrant } from "./planted";

export interface SeedDemoResult {
  counts: Record<keyof DemoRows | "users", number>;
  ms: number;
}

/**
 * Loads the demo company (see build-demo.ts) into an empty inventory in one
 * transaction: either all of it is there afterwards or none of it.
 */
export async function seedDemo(db: PrismaClient, opts: { now?: Date } = {}): Promise<SeedDemoResult> {
  const started = Date.now();
  const rows = buildDemo(opts.now ?? new Date());
  const principalByExt = new Map(rows.principals.map((p) => [p.externalId, p.id]));
  const users = await Promise.all(
    DEMO_USERS.map(async (u) => ({
      email: u.email, name: u.name, roles: [...u.roles], principalId: principalByExt.get(u.principal)!,
      passwordHash: await bcrypt.hash(DEMO_PASSWORD, 10),
    })),
  );

  await db.$transaction(
    async (tx) => {
      await tx.environment.createMany({ data: rows.environments });
      await tx.team.createMany({ data: rows.teams });
      await tx.api.createMany({ data: rows.apis });
      await tx.scope.createMany({ data: rows.scopes });
      await tx.endpoint.createMany({ data: rows.endpoints });
      await tx.endpointScope.createMany({ data: rows.endpointScopes });
      // Managers reference other principals: insert without them, then link (order-independent).
      await tx.principal.createMany({ data: rows.principals.map((p) => ({ ...p, managerId: null })) });
      const links = rows.principals.filter((p) => p.managerId);
      await tx.$executeRawUnsafe(
        `UPDATE "Principal" p SET "managerId" = l.m FROM unnest($1::uuid[], $2::uuid[]) AS l(id, m) WHERE p.id = l.id`,
        links.map((p) => p.id), links.map((p) => p.managerId),
      );
      await tx.credential.createMany({ data: rows.credentials.map((c) => ({ ...c, origin: "seed" })) });
      // Grants and usage are the bulk: one unnest() insert each instead of many parameterised batches.
      const g = rows.grants;
      await tx.$executeRawUnsafe(
        `INSERT INTO "Grant" (id, "principalId", "scopeId", "environmentId", "grantedById", "grantedAt", "expiresAt", "lastUsedAt", status, "revokedAt", "updatedAt", origin)
         SELECT id, p, s, e, gb, ga, ex, lu, st::"GrantStatus", rv, ga, 'seed' FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::timestamptz[])
           AS t(id, p, s, e, gb, ga, ex, lu, st, rv)`,
        g.map((x) => x.id), g.map((x) => x.principalId), g.map((x) => x.scopeId), g.map((x) => x.environmentId), g.map((x) => x.grantedById),
        g.map((x) => x.grantedAt.toISOString()), g.map((x) => x.expiresAt?.toISOString() ?? null), g.map((x) => x.lastUsedAt?.toISOString() ?? null),
        g.map((x) => x.status), g.map((x) => x.revokedAt?.toISOString() ?? null),
      );
      const u = rows.usage;
      await tx.$executeRawUnsafe(
        `INSERT INTO "GrantUsageDaily" ("grantId", day, "requestCount") SELECT * FROM unnest($1::uuid[], $2::date[], $3::int[])`,
        u.map((x) => x.grantId), u.map((x) => x.day.toISOString().slice(0, 10)), u.map((x) => x.requestCount),
      );
      await tx.user.createMany({ data: users });
    },
    { timeout: 120_000, maxWait: 10_000 },
  );

  const counts = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v.length])) as SeedDemoResult["counts"];
  counts.users = users.length;
  return { counts, ms: Date.now() - started };
}
