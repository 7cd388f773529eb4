-- Signed checkpoints of the audit chain head (docs/SECURITY.md, "Signed audit
-- checkpoints"). The signature is made with an Ed25519 key that is not stored
-- in the database; the row keeps the exact signed message so anyone holding the
-- public key can check it. Copies live outside the database too (checkpoint file,
-- proxies): a row here is the convenient copy, not the only one.
CREATE TABLE "AuditCheckpoint" (
    "id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "headHash" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "keyId" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    CONSTRAINT "AuditCheckpoint_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "AuditCheckpoint_seq_idx" ON "AuditCheckpoint" ("seq");

-- Append-only like the events themselves (same guard function as 0002).
CREATE TRIGGER "AuditCheckpoint_append_only"
  BEFORE UPDATE OR DELETE ON "AuditCheckpoint"
  FOR EACH ROW EXECUTE FUNCTION tollgate_audit_append_only();
CREATE TRIGGER "AuditCheckpoint_no_truncate"
  BEFORE TRUNCATE ON "AuditCheckpoint"
  FOR EACH STATEMENT EXECUTE FUNCTION tollgate_audit_append_only();
