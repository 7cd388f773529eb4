import { afterAll, beforeAll } from "vitest";
import { createDb, db, type PrismaClient } from "@/lib/db";
import { systemActor } from "@/lib/auth/actor";
import { createTestDatabase, type TestDatabase } from "./db";

/**
 * A fresh migrated database for one vitest file, with a Prisma client on it;
 * both are torn down after the file. Read `ctx.client` inside tests/hooks.
 */
export function useTestDatabase(poolSize = 2): { tdb: TestDatabase; client: PrismaClient } {
  const ctx = {} as { tdb: TestDatabase; client: PrismaClient };
  beforeAll(async () => {
    ctx.tdb = await createTestDatabase();
    ctx.client = createDb(ctx.tdb.url, poolSize);
  });
  afterAll(async () => {
    await ctx.client?.$disconnect();
    await ctx.tdb?.drop();
  });
  return ctx;
}

/**
 * Like useTestDatabase, for tests that drive route handlers or other code on the
 * app's default client: DATABASE_URL points at the fresh database before the
 * first `db()` (lib/db), and `ctx.client` is that very client. Import app modules
 * dynamically (in hooks or tests) so that none reads the environment earlier.
 */
export function useAppDatabase(): { tdb: TestDatabase; client: PrismaClient } {
  const ctx = {} as { tdb: TestDatabase; client: PrismaClient };
  beforeAll(async () => {
    ctx.tdb = await createTestDatabase();
    process.env.DATABASE_URL = ctx.tdb.url;
    ctx.client = db();
  });
  afterAll(async () => {
    await ctx.client?.$disconnect();
    await ctx.tdb?.drop();
  });
  return ctx;
}

/** A new service token (what an integration such as an IdP, CI or a proxy holds) with these scopes. */
export async function serviceToken(name: string, scopes: string[]): Promise<string> {
  const { createServiceToken } = await import("@/lib/auth/service-tokens");
  return (await createServiceToken(systemActor("test"), { name, scopes })).token;
}

type RoutePost = (req: Request, ctx: unknown) => Promise<Response>;

/**
 * The set-up the import routes' entry-point tests share, before all tests: a token that may import ("ci",
 * imports:write), one that may not (`other`), the production environment, then the route's POST (loaded only now,
 * see useAppDatabase). Read `route.POST` and the tokens inside tests/hooks.
 */
export function useImportRoute(ctx: { client: PrismaClient }, load: () => Promise<{ POST: RoutePost }>, other: { name: string; scopes: string[] }) {
  const route = {} as { POST: RoutePost; importToken: string; otherToken: string };
  beforeAll(async () => {
    route.importToken = await serviceToken("ci", ["imports:write"]);
    route.otherToken = await serviceToken(other.name, other.scopes);
    await ctx.client.environment.create({ data: { name: "production", tier: "production" } });
    ({ POST: route.POST } = await load());
  });
  return route;
}
