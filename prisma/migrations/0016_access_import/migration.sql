-- Access import (lib/access-import): Kong declarative configuration and Tollgate's
-- own NDJSON/CSV format brought into the inventory, with plan -> apply.

-- An imported Kong route keeps the path its clients call: the proxy prefix is set
-- explicitly instead of derived from the API's name (lib/enforcement/snapshot.ts),
-- and the key is read where Kong's key-auth read it (header/query names).
ALTER TABLE "Api" ADD COLUMN "proxyPrefix" TEXT, ADD COLUMN "keyLocation" JSONB;
CREATE UNIQUE INDEX "Api_environmentId_proxyPrefix_key" ON "Api" ("environmentId", "proxyPrefix");

-- Something that disappeared from an import's source is marked, not deleted, and
-- every active grant it touches gets a finding for review.
ALTER TYPE "FindingRule" ADD VALUE IF NOT EXISTS 'gone_from_source';

-- One row per named import source (e.g. "kong-production"): what was applied last.
CREATE TABLE "AccessImportSource" (
  "id" UUID NOT NULL PRIMARY KEY,
  "name" TEXT NOT NULL,
  "format" TEXT NOT NULL,
  "environmentId" UUID NOT NULL REFERENCES "Environment"("id"),
  "lastSha256" TEXT,
  "lastPlanHash" TEXT,
  "lastAppliedAt" TIMESTAMPTZ(3),
  "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX "AccessImportSource_name_key" ON "AccessImportSource" ("name");

-- What each source put where: (kind, external key) -> the Tollgate row it maps to.
-- External keys never hold a plaintext key (credentials are keyed by their SHA-256).
CREATE TABLE "ImportedObject" (
  "sourceId" UUID NOT NULL REFERENCES "AccessImportSource"("id") ON DELETE CASCADE,
  "kind" TEXT NOT NULL,
  "externalKey" TEXT NOT NULL,
  "objectId" UUID NOT NULL,
  "attributes" JSONB,
  "lastSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "goneAt" TIMESTAMPTZ(3),
  PRIMARY KEY ("sourceId", "kind", "externalKey")
);
CREATE INDEX "ImportedObject_objectId_idx" ON "ImportedObject" ("objectId");
