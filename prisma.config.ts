import { defineConfig } from "prisma/config";
import { MigratePg, migrateConfig, readCatalogTypesAsText } from "./lib/db/migrate-adapter";

// prisma migrate runs through the pg driver adapter (no native engine can be
// downloaded here); lib/db/migrate-adapter.ts holds its three workarounds.
readCatalogTypesAsText();

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  adapter: async () => new MigratePg(migrateConfig(process.env.DATABASE_URL)),
});
