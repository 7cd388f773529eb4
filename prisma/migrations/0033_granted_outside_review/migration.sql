-- Issue 22, point 5: access a later import of a source shows that Tollgate did not create.
-- The new value is only used by later transactions (ALTER TYPE … ADD VALUE).
ALTER TYPE "FindingRule" ADD VALUE IF NOT EXISTS 'granted_outside_review';

-- Per source: roll such access back automatically, signed by the admin who turned it on.
ALTER TABLE "AccessImportSource" ADD COLUMN "autoRollback" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "autoRollbackById" UUID;

-- A decision made by automation (import rollback, remediation policy) rather than a reviewer's click.
ALTER TABLE "Decision" ADD COLUMN "automation" TEXT;
