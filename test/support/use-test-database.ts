import { afterAll, beforeAll } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
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
