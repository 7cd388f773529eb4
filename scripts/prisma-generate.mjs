// Runs `prisma generate` on install. Prisma 6.19's CLI must be able to read the
// datasource url even to generate (otherwise it falls back to the native engine
// and tries to download it), so a placeholder is passed when none is configured.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
env.DATABASE_URL ||= "postgresql://placeholder:placeholder@127.0.0.1:5432/placeholder";
const r = spawnSync("npx", ["prisma", "generate"], { stdio: "inherit", env });
process.exit(r.status ?? 1);
