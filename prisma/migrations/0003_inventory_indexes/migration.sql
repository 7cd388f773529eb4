-- Hand-written: indexes that let the grants table (lib/inventory/grants.ts)
-- stop after one page on a million grants instead of sorting every match.
-- Each matches one ORDER BY in that file, tie-breaker included.

-- sort=lastUsedAt (any status): asc NULLS FIRST forward, desc NULLS LAST backward.
CREATE INDEX "Grant_lastUsedAt_nf_id_idx" ON "Grant" ("lastUsedAt" NULLS FIRST, "id");
-- sort=expiresAt.
CREATE INDEX "Grant_expiresAt_id_idx" ON "Grant" ("expiresAt", "id");
-- sort=principal / sort=scope: walk principals (scopes) in name order and
-- fetch each one's grants through the existing principalId / scopeId indexes.
CREATE INDEX "Principal_displayName_id_idx" ON "Principal" ("displayName", "id");
CREATE INDEX "Scope_name_id_idx" ON "Scope" ("name", "id");
