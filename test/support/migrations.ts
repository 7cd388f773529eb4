import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * For tests of one migration's data step: the migration folders in order, and
 * each one's SQL, so a test can stop before a migration, plant old-shape rows,
 * and run the rest.
 */
const DIR = path.resolve("prisma/migrations");
export const migrations = readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
export const migrationSql = (name: string) => readFileSync(path.join(DIR, name, "migration.sql"), "utf8");
/** A fixed uuid per number, for rows planted by hand. */
export const fixedId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
