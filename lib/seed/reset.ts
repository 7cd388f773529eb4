import type { PrismaClient } from "@/lib/db";

/**
 * Inventory tables, truncated together by `npm run seed -- --reset`. CASCADE
 * also clears rows that point into them (findings, decisions, outbox items,
 * proxies, campaign items); the append-only audit log is left alone.
 */
const INVENTORY_TABLES = [
  "Environment", "Team", "Api", "Scope", "Endpoint", "EndpointScope", "Principal", "Credential", "Grant", "GrantUsageDaily", "User",
];

export async function resetInventory(db: PrismaClient): Promise<void> {
  await db.$executeRawUnsafe(`TRUNCATE ${INVENTORY_TABLES.map((t) => `"${t}"`).join(", ")} CASCADE`);
}

/** True when the inventory already holds data (the seed then refuses without --reset). */
export async function inventoryIsEmpty(db: PrismaClient): Promise<boolean> {
  const rows = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT ((SELECT count(*) FROM (SELECT 1 FROM "Environment" LIMIT 1) a) + (SELECT count(*) FROM (SELECT 1 FROM "Principal" LIMIT 1) b) + (SELECT count(*) FROM (SELECT 1 FROM "User" LIMIT 1) c))::int AS n`,
  );
  return rows[0].n === 0;
}
