-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ScopeLevel" AS ENUM ('read', 'write', 'admin');

-- CreateEnum
CREATE TYPE "Sensitivity" AS ENUM ('low', 'medium', 'high', 'critical');

-- CreateEnum
CREATE TYPE "PrincipalKind" AS ENUM ('user', 'service_account', 'api_key');

-- CreateEnum
CREATE TYPE "PrincipalStatus" AS ENUM ('active', 'suspended', 'deprovisioned');

-- CreateEnum
CREATE TYPE "GrantStatus" AS ENUM ('active', 'revoked', 'expired');

-- CreateEnum
CREATE TYPE "EnvironmentTier" AS ENUM ('production', 'staging', 'development');

-- CreateEnum
CREATE TYPE "FindingRule" AS ENUM ('dormant', 'never_used', 'over_privileged', 'orphaned', 'expired_active', 'stale_credential', 'cross_environment', 'privileged_service', 'deprecated_scope');

-- CreateEnum
CREATE TYPE "FindingStatus" AS ENUM ('open', 'approved', 'revoked', 'reduced', 'closed');

-- CreateEnum
CREATE TYPE "Severity" AS ENUM ('low', 'medium', 'high', 'critical');

-- CreateEnum
CREATE TYPE "DecisionKind" AS ENUM ('approve', 'revoke', 'reduce');

-- CreateEnum
CREATE TYPE "EnforcementState" AS ENUM ('not_required', 'pending', 'applied', 'failed');

-- CreateEnum
CREATE TYPE "OutboxStatus" AS ENUM ('pending', 'applied', 'failed');

-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('draft', 'active', 'closed');

-- CreateTable
CREATE TABLE "Environment" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "tier" "EnvironmentTier" NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Environment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Team" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "externalId" TEXT,
    "deletedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Team_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Api" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "baseUrl" TEXT NOT NULL,
    "environmentId" UUID NOT NULL,
    "teamId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Api_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Scope" (
    "id" UUID NOT NULL,
    "apiId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "level" "ScopeLevel" NOT NULL,
    "description" TEXT,
    "deprecatedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Scope_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Endpoint" (
    "id" UUID NOT NULL,
    "apiId" UUID NOT NULL,
    "method" TEXT NOT NULL,
    "pathTemplate" TEXT NOT NULL,
    "summary" TEXT,
    "sensitivity" "Sensitivity" NOT NULL DEFAULT 'medium',
    "public" BOOLEAN NOT NULL DEFAULT false,
    "deprecatedAt" TIMESTAMPTZ(3),
    "lastSeenAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Endpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EndpointScope" (
    "endpointId" UUID NOT NULL,
    "scopeId" UUID NOT NULL,

    CONSTRAINT "EndpointScope_pkey" PRIMARY KEY ("endpointId","scopeId")
);

-- CreateTable
CREATE TABLE "Principal" (
    "id" UUID NOT NULL,
    "kind" "PrincipalKind" NOT NULL,
    "displayName" TEXT NOT NULL,
    "email" TEXT,
    "externalId" TEXT,
    "teamId" UUID,
    "managerId" UUID,
    "homeEnvironmentId" UUID,
    "status" "PrincipalStatus" NOT NULL DEFAULT 'active',
    "statusChangedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "suspendedAt" TIMESTAMPTZ(3),
    "deprovisionedAt" TIMESTAMPTZ(3),
    "userName" TEXT,
    "scimAttributes" JSONB,
    "scimDeletedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Principal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Credential" (
    "id" UUID NOT NULL,
    "principalId" UUID NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotatedAt" TIMESTAMPTZ(3),
    "expiresAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Credential_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Grant" (
    "id" UUID NOT NULL,
    "principalId" UUID NOT NULL,
    "scopeId" UUID NOT NULL,
    "environmentId" UUID NOT NULL,
    "grantedById" UUID,
    "grantedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),
    "status" "GrantStatus" NOT NULL DEFAULT 'active',
    "revokedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Grant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GrantUsageDaily" (
    "grantId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "requestCount" INTEGER NOT NULL,

    CONSTRAINT "GrantUsageDaily_pkey" PRIMARY KEY ("grantId","day")
);

-- CreateTable
CREATE TABLE "Finding" (
    "id" UUID NOT NULL,
    "grantId" UUID NOT NULL,
    "rule" "FindingRule" NOT NULL,
    "severity" "Severity" NOT NULL,
    "riskScore" INTEGER NOT NULL,
    "evidence" JSONB NOT NULL,
    "suggestion" TEXT NOT NULL,
    "status" "FindingStatus" NOT NULL DEFAULT 'open',
    "assigneeId" UUID,
    "openedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closedAt" TIMESTAMPTZ(3),
    "closedReason" TEXT,
    "reReviewAt" TIMESTAMPTZ(3),

    CONSTRAINT "Finding_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedBy" TEXT,

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "AnalysisRun" (
    "id" UUID NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "stats" JSONB,
    "error" TEXT,

    CONSTRAINT "AnalysisRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Decision" (
    "id" UUID NOT NULL,
    "findingId" UUID,
    "campaignItemId" UUID,
    "grantId" UUID NOT NULL,
    "kind" "DecisionKind" NOT NULL,
    "justification" TEXT,
    "reReviewAt" TIMESTAMPTZ(3),
    "keptScopeIds" UUID[],
    "deciderId" UUID NOT NULL,
    "confirmerId" UUID,
    "awaitingConfirmation" BOOLEAN NOT NULL DEFAULT false,
    "enforcement" "EnforcementState" NOT NULL DEFAULT 'pending',
    "enforcedAt" TIMESTAMPTZ(3),
    "verifiedRemovedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Decision_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Proxy" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "adminUrl" TEXT NOT NULL,
    "adminToken" TEXT NOT NULL,
    "environmentId" UUID NOT NULL,
    "lastRevision" BIGINT,
    "lastSyncAt" TIMESTAMPTZ(3),
    "lastReportAt" TIMESTAMPTZ(3),
    "lastError" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Proxy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OutboxItem" (
    "id" BIGSERIAL NOT NULL,
    "decisionId" UUID,
    "proxyId" UUID NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" "OutboxStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastError" TEXT,
    "appliedRevision" BIGINT,
    "appliedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OutboxItem_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UsageReport" (
    "id" TEXT NOT NULL,
    "proxyName" TEXT NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UsageReport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ShadowEndpoint" (
    "id" UUID NOT NULL,
    "environmentId" UUID NOT NULL,
    "apiId" UUID,
    "method" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "requestCount" BIGINT NOT NULL DEFAULT 0,
    "distinctKeys" INTEGER NOT NULL DEFAULT 0,
    "firstSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dismissedAt" TIMESTAMPTZ(3),
    "dismissReason" TEXT,

    CONSTRAINT "ShadowEndpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "roles" TEXT[],
    "passwordHash" TEXT,
    "principalId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSignInAt" TIMESTAMPTZ(3),

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ServiceToken" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ServiceToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "data" JSONB NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "Campaign" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "status" "CampaignStatus" NOT NULL DEFAULT 'draft',
    "scope" JSONB NOT NULL,
    "reviewerRule" TEXT NOT NULL,
    "closePolicy" TEXT NOT NULL,
    "dueAt" TIMESTAMPTZ(3) NOT NULL,
    "ownerId" UUID,
    "launchedAt" TIMESTAMPTZ(3),
    "closedAt" TIMESTAMPTZ(3),
    "snapshot" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CampaignItem" (
    "id" UUID NOT NULL,
    "campaignId" UUID NOT NULL,
    "grantId" UUID NOT NULL,
    "reviewerId" UUID,
    "delegatedFromId" UUID,
    "snapshot" JSONB NOT NULL,
    "decision" TEXT,
    "decidedAt" TIMESTAMPTZ(3),
    "decidedById" UUID,
    "justification" TEXT,

    CONSTRAINT "CampaignItem_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Notification" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "link" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readAt" TIMESTAMPTZ(3),

    CONSTRAINT "Notification_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Environment_name_key" ON "Environment"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Team_name_key" ON "Team"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Team_externalId_key" ON "Team"("externalId");

-- CreateIndex
CREATE INDEX "Api_teamId_idx" ON "Api"("teamId");

-- CreateIndex
CREATE UNIQUE INDEX "Api_name_environmentId_key" ON "Api"("name", "environmentId");

-- CreateIndex
CREATE INDEX "Scope_level_idx" ON "Scope"("level");

-- CreateIndex
CREATE UNIQUE INDEX "Scope_apiId_name_key" ON "Scope"("apiId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Endpoint_apiId_method_pathTemplate_key" ON "Endpoint"("apiId", "method", "pathTemplate");

-- CreateIndex
CREATE INDEX "EndpointScope_scopeId_idx" ON "EndpointScope"("scopeId");

-- CreateIndex
CREATE UNIQUE INDEX "Principal_externalId_key" ON "Principal"("externalId");

-- CreateIndex
CREATE INDEX "Principal_teamId_idx" ON "Principal"("teamId");

-- CreateIndex
CREATE INDEX "Principal_managerId_idx" ON "Principal"("managerId");

-- CreateIndex
CREATE INDEX "Principal_status_idx" ON "Principal"("status");

-- CreateIndex
CREATE INDEX "Principal_kind_idx" ON "Principal"("kind");

-- CreateIndex
CREATE UNIQUE INDEX "Credential_hash_key" ON "Credential"("hash");

-- CreateIndex
CREATE INDEX "Credential_principalId_idx" ON "Credential"("principalId");

-- CreateIndex
CREATE INDEX "Grant_scopeId_idx" ON "Grant"("scopeId");

-- CreateIndex
CREATE INDEX "Grant_environmentId_status_idx" ON "Grant"("environmentId", "status");

-- CreateIndex
CREATE INDEX "Grant_status_lastUsedAt_idx" ON "Grant"("status", "lastUsedAt");

-- CreateIndex
CREATE INDEX "Grant_lastUsedAt_idx" ON "Grant"("lastUsedAt");

-- CreateIndex
CREATE INDEX "Grant_grantedAt_idx" ON "Grant"("grantedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Grant_principalId_scopeId_environmentId_key" ON "Grant"("principalId", "scopeId", "environmentId");

-- CreateIndex
CREATE INDEX "GrantUsageDaily_day_idx" ON "GrantUsageDaily"("day");

-- CreateIndex
CREATE INDEX "Finding_status_rule_severity_idx" ON "Finding"("status", "rule", "severity");

-- CreateIndex
CREATE INDEX "Finding_grantId_idx" ON "Finding"("grantId");

-- CreateIndex
CREATE INDEX "Finding_assigneeId_idx" ON "Finding"("assigneeId");

-- CreateIndex
CREATE INDEX "Decision_grantId_idx" ON "Decision"("grantId");

-- CreateIndex
CREATE INDEX "Decision_deciderId_idx" ON "Decision"("deciderId");

-- CreateIndex
CREATE INDEX "Decision_createdAt_idx" ON "Decision"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Proxy_name_key" ON "Proxy"("name");

-- CreateIndex
CREATE INDEX "OutboxItem_status_nextAttemptAt_idx" ON "OutboxItem"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "OutboxItem_decisionId_idx" ON "OutboxItem"("decisionId");

-- CreateIndex
CREATE UNIQUE INDEX "OutboxItem_proxyId_idempotencyKey_key" ON "OutboxItem"("proxyId", "idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "ShadowEndpoint_environmentId_method_path_key" ON "ShadowEndpoint"("environmentId", "method", "path");

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "User_principalId_key" ON "User"("principalId");

-- CreateIndex
CREATE UNIQUE INDEX "ServiceToken_hash_key" ON "ServiceToken"("hash");

-- CreateIndex
CREATE UNIQUE INDEX "AuditEvent_id_key" ON "AuditEvent"("id");

-- CreateIndex
CREATE INDEX "AuditEvent_action_idx" ON "AuditEvent"("action");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE INDEX "CampaignItem_reviewerId_idx" ON "CampaignItem"("reviewerId");

-- CreateIndex
CREATE UNIQUE INDEX "CampaignItem_campaignId_grantId_key" ON "CampaignItem"("campaignId", "grantId");

-- CreateIndex
CREATE INDEX "Notification_userId_readAt_idx" ON "Notification"("userId", "readAt");

-- AddForeignKey
ALTER TABLE "Api" ADD CONSTRAINT "Api_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Api" ADD CONSTRAINT "Api_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Scope" ADD CONSTRAINT "Scope_apiId_fkey" FOREIGN KEY ("apiId") REFERENCES "Api"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Endpoint" ADD CONSTRAINT "Endpoint_apiId_fkey" FOREIGN KEY ("apiId") REFERENCES "Api"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EndpointScope" ADD CONSTRAINT "EndpointScope_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EndpointScope" ADD CONSTRAINT "EndpointScope_scopeId_fkey" FOREIGN KEY ("scopeId") REFERENCES "Scope"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Principal" ADD CONSTRAINT "Principal_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Principal" ADD CONSTRAINT "Principal_managerId_fkey" FOREIGN KEY ("managerId") REFERENCES "Principal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Principal" ADD CONSTRAINT "Principal_homeEnvironmentId_fkey" FOREIGN KEY ("homeEnvironmentId") REFERENCES "Environment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Credential" ADD CONSTRAINT "Credential_principalId_fkey" FOREIGN KEY ("principalId") REFERENCES "Principal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Grant" ADD CONSTRAINT "Grant_principalId_fkey" FOREIGN KEY ("principalId") REFERENCES "Principal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Grant" ADD CONSTRAINT "Grant_scopeId_fkey" FOREIGN KEY ("scopeId") REFERENCES "Scope"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Grant" ADD CONSTRAINT "Grant_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Grant" ADD CONSTRAINT "Grant_grantedById_fkey" FOREIGN KEY ("grantedById") REFERENCES "Principal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GrantUsageDaily" ADD CONSTRAINT "GrantUsageDaily_grantId_fkey" FOREIGN KEY ("grantId") REFERENCES "Grant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Finding" ADD CONSTRAINT "Finding_grantId_fkey" FOREIGN KEY ("grantId") REFERENCES "Grant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Finding" ADD CONSTRAINT "Finding_assigneeId_fkey" FOREIGN KEY ("assigneeId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Decision" ADD CONSTRAINT "Decision_findingId_fkey" FOREIGN KEY ("findingId") REFERENCES "Finding"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Decision" ADD CONSTRAINT "Decision_campaignItemId_fkey" FOREIGN KEY ("campaignItemId") REFERENCES "CampaignItem"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Decision" ADD CONSTRAINT "Decision_deciderId_fkey" FOREIGN KEY ("deciderId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Decision" ADD CONSTRAINT "Decision_confirmerId_fkey" FOREIGN KEY ("confirmerId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Proxy" ADD CONSTRAINT "Proxy_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OutboxItem" ADD CONSTRAINT "OutboxItem_decisionId_fkey" FOREIGN KEY ("decisionId") REFERENCES "Decision"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OutboxItem" ADD CONSTRAINT "OutboxItem_proxyId_fkey" FOREIGN KEY ("proxyId") REFERENCES "Proxy"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_principalId_fkey" FOREIGN KEY ("principalId") REFERENCES "Principal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ServiceToken" ADD CONSTRAINT "ServiceToken_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignItem" ADD CONSTRAINT "CampaignItem_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

