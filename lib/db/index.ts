import { PrismaClient } from "@/lib/generated/prisma/client";
import { env, pgConfigFromUrl } from "@/lib/config/env";
import { ResilientPrismaPg } from "./adapter";

export { Prisma } from "@/lib/generated/prisma/client";
export type { PrismaClient } from "@/lib/generated/prisma/client";

// One client per process. Next's dev server re-evaluates modules on reload,
// so the instance lives on globalThis to survive that.
const globalForDb = globalThis as unknown as { __tollgateDb?: PrismaClient };

// The URL each client was made for: a few hot paths talk to the same database over a plain pg
// connection of their own (lib/audit/checkpoint-connection.ts), which Prisma does not expose.
const urls = new WeakMap<PrismaClient, string>();
const adapters = new WeakMap<PrismaClient, ResilientPrismaPg>();

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
