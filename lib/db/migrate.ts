import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";

/**
 * Applies prisma/migrations/* in order with plain pg. Used by tests and
 * benchmarks to build a fresh database quickly; `npm start` and deployments use
 * `prisma migrate deploy`, which runs the very same SQL files.
 */
export async function applyMigrationsSql(url: string, root = process.cwd()): Promise<void> {
  const dir = path.join(root, "prisma", "migrations");
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const name of names) {
      const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
      await client.query(sql);
    }
  } finally {
    await client.end();
  }
}
