-- Issue 15: an import of 1M grants spent ~9 s of its insert maintaining two indexes that other indexes already cover.
-- "Grant_lastUsedAt_idx" ("lastUsedAt") is covered by "Grant_lastUsedAt_nf_id_idx" ("lastUsedAt" NULLS FIRST, "id"):
-- the same leading column serves the same ranges and IS NULL, and both sort orders the grants table offers.
-- "Grant_grantedAt_idx" ("grantedAt") is covered by "Grant_grantedAt_id_idx" ("grantedAt" DESC, "id"), scanned either way.
-- Measured on the 1M-grant scale seed: every grants-table sort and last-used filter, the API page, the overview and
-- the remediation candidates ran as fast without them (docs/BENCHMARKS.md, "Access import").
DROP INDEX IF EXISTS "Grant_lastUsedAt_idx";
DROP INDEX IF EXISTS "Grant_grantedAt_idx";
