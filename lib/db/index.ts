import { PrismaClient } from "@/lib/generated/prisma/client";
import { env, pgConfigFromUrl } from "@/lib/config/env";
import { ResilientPrismaPg } from "./adapter";

export { Prisma } from "@/lib/generated/prisma/client";
export type { PrismaClient } from "@/lib/generated/prisma/client";

// One client per process. Next's dev server re-evaluates modules on reload,
// so the instance lives on globalThis to survive that.
const globalForDb = globalThis as unknown as { __tollgateDb?: PrismaClient };

export function createDb(url: string, poolSize?: number): PrismaClient {
  const adapter = new ResilientPrismaPg({ ...pgConfigFromUrl(url), max: poolSize ?? env().DATABASE_POOL_SIZE });
  return new PrismaClient({ adapter });
}

export function db(): PrismaClient {
  globalForDb.__tollgateDb ??= createDb(env().DATABASE_URL);
  return globalForDb.__tollgateDb;
}

/** Transaction client type, for lib functions that take part in a caller's transaction. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
