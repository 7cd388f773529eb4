-- Issue 22, point 4: remediation policies with a notice period, objections and rollback.
CREATE TYPE "RemediationKind" AS ENUM ('revoke_unused_grants', 'reduce_service_accounts', 'revoke_unrotated_keys');
CREATE TYPE "RemediationPolicyStatus" AS ENUM ('draft', 'enabled', 'disabled');
CREATE TYPE "RemediationItemStatus" AS ENUM ('noticed', 'objected', 'executed', 'proposed', 'skipped', 'rolled_back');

ALTER TYPE "AccessChangeKind" ADD VALUE IF NOT EXISTS 'restore_access';

ALTER TABLE "Decision" ADD COLUMN "remediationItemId" UUID;

CREATE TABLE "RemediationPolicy" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "RemediationKind" NOT NULL,
    "days" INTEGER NOT NULL,
    "noticeDays" INTEGER NOT NULL DEFAULT 7,
    "status" "RemediationPolicyStatus" NOT NULL DEFAULT 'draft',
    "createdById" UUID NOT NULL,
    "enabledById" UUID,
    "enabledAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RemediationPolicy_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "RemediationItem" (
    "id" UUID NOT NULL,
    "policyId" UUID NOT NULL,
    "principalId" UUID NOT NULL,
    "grantId" UUID,
    "credentialId" UUID,
    "grantIds" UUID[] DEFAULT ARRAY[]::UUID[],
    "keptScopeIds" UUID[] DEFAULT ARRAY[]::UUID[],
    "summary" TEXT NOT NULL,
    "status" "RemediationItemStatus" NOT NULL DEFAULT 'noticed',
    "noticedAt" TIMESTAMPTZ(3) NOT NULL,
    "dueAt" TIMESTAMPTZ(3) NOT NULL,
    "objectionReason" TEXT,
    "objectedById" UUID,
    "objectedAt" TIMESTAMPTZ(3),
    "findingId" UUID,
    "decisionId" UUID,
    "accessChangeId" UUID,
    "executedAt" TIMESTAMPTZ(3),
    "rolledBackAt" TIMESTAMPTZ(3),
    "rolledBackById" UUID,
    "restoreChangeId" UUID,

    CONSTRAINT "RemediationItem_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "RemediationPolicy_name_key" ON "RemediationPolicy"("name");
CREATE INDEX "RemediationItem_policyId_status_idx" ON "RemediationItem"("policyId", "status");
CREATE INDEX "RemediationItem_status_dueAt_idx" ON "RemediationItem"("status", "dueAt");
CREATE INDEX "RemediationItem_grantId_idx" ON "RemediationItem"("grantId");
-- A policy notices the same grant or key at most once while that notice is live
-- (a periodic run that comes back finds it already noticed).
CREATE UNIQUE INDEX "RemediationItem_live_grant" ON "RemediationItem"("policyId", "grantId") WHERE status IN ('noticed', 'proposed') AND "grantId" IS NOT NULL;
CREATE UNIQUE INDEX "RemediationItem_live_credential" ON "RemediationItem"("policyId", "credentialId") WHERE status IN ('noticed', 'proposed') AND "credentialId" IS NOT NULL;

ALTER TABLE "RemediationItem" ADD CONSTRAINT "RemediationItem_policyId_fkey" FOREIGN KEY ("policyId") REFERENCES "RemediationPolicy"("id") ON DELETE CASCADE ON UPDATE CASCADE;
