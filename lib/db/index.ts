import { PrismaClient } from "@/lib/generated/prisma/client";
import { env, pgConfigFromUrl } from "@/lib/config/env";
import { ResilientPrismaPg } from "./adapter";

export { Prisma } from "@/lib/generated/prisma/client";
export type { PrismaClient } from "@/lib/generated/prisma/client";

// One client per process. Next's dev server re-evaluates modules on reload,
// so the instance lives on globalThis to survive that.
const globalForDb = globalThis as unknown as {
  __tollgateDb?: PrismaClient;
  __tollgateDbOrigins?: { urls: WeakMap<PrismaClient, string>; adapters: WeakMap<PrismaClient, ResilientPrismaPg> };
};

// The URL and adapter each client was made with: a few paths talk to the same database over plain
// pg (lib/audit/checkpoint-connection.ts, the access import's COPY), which Prisma does not expose.
// On globalThis like the client itself: Next bundles this module into several server chunks, and a
// module-level map in one chunk would not know the client another chunk created.
globalForDb.__tollgateDbOrigins ??= { urls: new WeakMap(), adapters: new WeakMap() };
const { urls, adapters } = globalForDb.__tollgateDbOrigins;

export function createDb(url: string, poolSize?: number): PrismaClient {
  const adapter = new ResilientPrismaPg({ ...pgConfigFromUrl(url), max: poolSize ?? env().DATABASE_POOL_SIZE });
  const client = new PrismaClient({ adapter });
  urls.set(client, url);
  adapters.set(client, adapter);
  return client;
}

/** The database URL a client from createDb() connects to (undefined for any other client). */
export function databaseUrlOf(client: PrismaClient): string | undefined {
  return urls.get(client);
}

/**
 * The pg pool behind a client made by createDb, for work Prisma cannot do
 * (COPY FROM STDIN into a staging table). The client connects first if it has not yet.
 */
export async function pgPoolOf(client: PrismaClient): Promise<import("pg").Pool> {
  const adapter = adapters.get(client);
  if (!adapter) throw new Error("pgPoolOf: this client was not made by createDb()");
  if (!adapter.pool) await client.$queryRawUnsafe("SELECT 1");
  if (!adapter.pool) throw new Error("pgPoolOf: the client's adapter did not connect");
  return adapter.pool;
}

export function db(): PrismaClient {
  globalForDb.__tollgateDb ??= createDb(env().DATABASE_URL);
  return globalForDb.__tollgateDb;
}

/** Transaction client type, for lib functions that take part in a caller's transaction. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
