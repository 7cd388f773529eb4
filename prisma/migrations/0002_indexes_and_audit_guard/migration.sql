-- Hand-written: what the Prisma schema cannot express.

-- Grants table and queues mostly look at active grants; partial indexes keep
-- those lookups small when most historical grants are revoked.
CREATE INDEX "Grant_active_lastUsedAt_idx" ON "Grant" ("lastUsedAt" NULLS FIRST, "id") WHERE "status" = 'active';
CREATE INDEX "Grant_active_principal_idx" ON "Grant" ("principalId") WHERE "status" = 'active';
CREATE INDEX "Grant_grantedAt_id_idx" ON "Grant" ("grantedAt" DESC, "id");
CREATE INDEX "Finding_open_idx" ON "Finding" ("riskScore" DESC, "openedAt", "id") WHERE "status" = 'open';
CREATE UNIQUE INDEX "Finding_one_open_per_rule" ON "Finding" ("grantId", "rule") WHERE "status" = 'open';
CREATE INDEX "OutboxItem_pending_idx" ON "OutboxItem" ("nextAttemptAt", "id") WHERE "status" = 'pending';
CREATE INDEX "Principal_displayName_lower_idx" ON "Principal" (lower("displayName") text_pattern_ops);

-- The audit log is append-only: the database itself refuses UPDATE, DELETE and
-- TRUNCATE, so neither the app nor a bug in it can rewrite history. (A
-- superuser can still disable the trigger; the hash chain detects that.)
CREATE FUNCTION tollgate_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'AuditEvent is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER "AuditEvent_append_only"
  BEFORE UPDATE OR DELETE ON "AuditEvent"
  FOR EACH ROW EXECUTE FUNCTION tollgate_audit_append_only();
CREATE TRIGGER "AuditEvent_no_truncate"
  BEFORE TRUNCATE ON "AuditEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION tollgate_audit_append_only();
