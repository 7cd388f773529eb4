// Regenerates prisma/migrations/0001_init from schema.prisma and the client.
// Only valid while 0001 has never been deployed anywhere that matters (before
// the first release); after that, schema changes get a new migration.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const env = { ...process.env, DATABASE_URL: process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres" };
const diff = spawnSync("npx", ["prisma", "migrate", "diff", "--from-empty", "--to-schema-datamodel", "prisma/schema.prisma", "--script"], { env, encoding: "utf8" });
if (diff.status !== 0) {
  process.stderr.write(diff.stderr);
  process.exit(diff.status ?? 1);
}
writeFileSync("prisma/migrations/0001_init/migration.sql", diff.stdout);
const gen = spawnSync("node", ["scripts/prisma-generate.mjs"], { env, stdio: "inherit" });
process.exit(gen.status ?? 1);
