-- Issue 16: granting access. Keys issued/rotated/revoked by Tollgate and grants from approved access
-- requests are AccessChange rows whose outbox rows (OutboxItem.accessChangeId) record enforcement like a
-- Decision's. Grant/Credential gain an additive, nullable "origin" (how the row came to exist).
-- Generated with prisma migrate diff from the 0009 schema, plus the constraints at the end.

-- CreateEnum
CREATE TYPE "AccessChangeKind" AS ENUM ('issue_key', 'rotate_key', 'revoke_key', 'revoke_all_keys', 'grant_access', 'expire_grant');

-- CreateEnum
CREATE TYPE "AccessRequestStatus" AS ENUM ('pending', 'approved', 'denied', 'expired');

-- AlterTable
ALTER TABLE "Environment" ADD COLUMN     "maxAccessHours" INTEGER;

-- AlterTable
ALTER TABLE "Credential" ADD COLUMN     "origin" TEXT,
ADD COLUMN     "rotatedFromId" UUID;

-- AlterTable
ALTER TABLE "Grant" ADD COLUMN     "accessRequestId" UUID,
ADD COLUMN     "origin" TEXT;

-- AlterTable
ALTER TABLE "OutboxItem" ADD COLUMN     "accessChangeId" UUID;

-- CreateTable
CREATE TABLE "AccessChange" (
    "id" UUID NOT NULL,
    "kind" "AccessChangeKind" NOT NULL,
    "actorUserId" UUID,
    "actorLabel" TEXT NOT NULL,
    "principalId" UUID NOT NULL,
    "credentialIds" UUID[] DEFAULT ARRAY[]::UUID[],
    "grantIds" UUID[] DEFAULT ARRAY[]::UUID[],
    "accessRequestId" UUID,
    "enforcement" "EnforcementState" NOT NULL DEFAULT 'pending',
    "enforcedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AccessChange_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AccessRequest" (
    "id" UUID NOT NULL,
    "requesterId" UUID NOT NULL,
    "principalId" UUID NOT NULL,
    "apiId" UUID NOT NULL,
    "environmentId" UUID NOT NULL,
    "scopeIds" UUID[],
    "reason" TEXT NOT NULL,
    "durationSeconds" INTEGER,
    "until" TIMESTAMPTZ(3),
    "status" "AccessRequestStatus" NOT NULL DEFAULT 'pending',
    "approvalsNeeded" INTEGER NOT NULL DEFAULT 1,
    "approverIds" UUID[] DEFAULT ARRAY[]::UUID[],
    "deniedById" UUID,
    "denyReason" TEXT,
    "decidedAt" TIMESTAMPTZ(3),
    "grantStartsAt" TIMESTAMPTZ(3),
    "grantEndsAt" TIMESTAMPTZ(3),
    "expiredMarkedAt" TIMESTAMPTZ(3),
    "grantIds" UUID[] DEFAULT ARRAY[]::UUID[],
    "accessChangeId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AccessRequest_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AccessChange_principalId_createdAt_idx" ON "AccessChange"("principalId", "createdAt");

-- CreateIndex
CREATE INDEX "AccessChange_kind_createdAt_idx" ON "AccessChange"("kind", "createdAt");

-- CreateIndex
CREATE INDEX "AccessRequest_status_createdAt_idx" ON "AccessRequest"("status", "createdAt");

-- CreateIndex
CREATE INDEX "AccessRequest_requesterId_createdAt_idx" ON "AccessRequest"("requesterId", "createdAt");

-- CreateIndex
CREATE INDEX "AccessRequest_apiId_status_idx" ON "AccessRequest"("apiId", "status");

-- CreateIndex
CREATE INDEX "OutboxItem_accessChangeId_idx" ON "OutboxItem"("accessChangeId");

-- AddForeignKey
ALTER TABLE "OutboxItem" ADD CONSTRAINT "OutboxItem_accessChangeId_fkey" FOREIGN KEY ("accessChangeId") REFERENCES "AccessChange"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- A reason is required and bounded; a request names either a duration or an end date, not both.
ALTER TABLE "AccessRequest" ADD CONSTRAINT "AccessRequest_reason_len" CHECK (char_length(reason) BETWEEN 1 AND 2000);
ALTER TABLE "AccessRequest" ADD CONSTRAINT "AccessRequest_one_end" CHECK (("durationSeconds" IS NULL) <> ("until" IS NULL));
ALTER TABLE "Environment" ADD CONSTRAINT "Environment_maxAccessHours_positive" CHECK ("maxAccessHours" IS NULL OR "maxAccessHours" > 0);

-- Campaign snapshots record how each grant came to exist.
ALTER TABLE "CampaignItem" ADD COLUMN "grantOrigin" TEXT;
