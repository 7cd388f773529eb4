-- Campaigns (issue 7): generated with prisma migrate diff from the 0005 schema, plus hand-written indexes at the end.
-- CreateEnum
CREATE TYPE "ReviewerRule" AS ENUM ('manager', 'owning_team', 'named');

-- CreateEnum
CREATE TYPE "ClosePolicy" AS ENUM ('revoke', 'keep_and_flag');

-- CreateEnum
CREATE TYPE "CampaignRecurrence" AS ENUM ('none', 'quarterly');

-- CreateEnum
CREATE TYPE "CertificationDecision" AS ENUM ('keep', 'revoke', 'reduce');

-- CreateEnum
CREATE TYPE "ReviewerSource" AS ENUM ('manager', 'owning_team', 'named', 'owner_fallback', 'delegated', 'fallback_round', 'escalated');

-- AlterEnum
ALTER TYPE "CampaignStatus" ADD VALUE 'fallback';

-- DropIndex
DROP INDEX "CampaignItem_reviewerId_idx";

-- AlterTable
ALTER TABLE "Campaign" DROP COLUMN "snapshot",
ADD COLUMN     "fallbackDays" INTEGER NOT NULL DEFAULT 3,
ADD COLUMN     "fallbackReviewerId" UUID,
ADD COLUMN     "fallbackStartedAt" TIMESTAMPTZ(3),
ADD COLUMN     "namedReviewerIds" UUID[],
ADD COLUMN     "recurrence" "CampaignRecurrence" NOT NULL DEFAULT 'none',
ADD COLUMN     "seriesId" UUID,
ADD COLUMN     "snapshotAt" TIMESTAMPTZ(3),
ADD COLUMN     "snapshotCount" INTEGER,
ADD COLUMN     "snapshotCriteria" JSONB,
ADD COLUMN     "snapshotSha256" TEXT,
ADD COLUMN     "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
DROP COLUMN "reviewerRule",
ADD COLUMN     "reviewerRule" "ReviewerRule" NOT NULL,
DROP COLUMN "closePolicy",
ADD COLUMN     "closePolicy" "ClosePolicy" NOT NULL,
ALTER COLUMN "ownerId" SET NOT NULL;

-- AlterTable
ALTER TABLE "CampaignItem" DROP COLUMN "delegatedFromId",
DROP COLUMN "reviewerId",
DROP COLUMN "snapshot",
ADD COLUMN     "apiId" UUID NOT NULL,
ADD COLUMN     "apiName" TEXT NOT NULL,
ADD COLUMN     "apiTeamId" UUID,
ADD COLUMN     "apiTeamName" TEXT,
ADD COLUMN     "closedByPolicy" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "environmentId" UUID NOT NULL,
ADD COLUMN     "environmentName" TEXT NOT NULL,
ADD COLUMN     "escalatedAt" TIMESTAMPTZ(3),
ADD COLUMN     "escalatedToId" UUID,
ADD COLUMN     "expiresAt" TIMESTAMPTZ(3),
ADD COLUMN     "flagged" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "grantedAt" TIMESTAMPTZ(3) NOT NULL,
ADD COLUMN     "keptScopeIds" UUID[],
ADD COLUMN     "lastUsedAt" TIMESTAMPTZ(3),
ADD COLUMN     "managerPrincipalId" UUID,
ADD COLUMN     "openFindingCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "openFindings" JSONB NOT NULL,
ADD COLUMN     "principalEmail" TEXT,
ADD COLUMN     "principalId" UUID NOT NULL,
ADD COLUMN     "principalKind" "PrincipalKind" NOT NULL,
ADD COLUMN     "principalName" TEXT NOT NULL,
ADD COLUMN     "scopeId" UUID NOT NULL,
ADD COLUMN     "scopeLevel" "ScopeLevel" NOT NULL,
ADD COLUMN     "scopeName" TEXT NOT NULL,
ADD COLUMN     "teamId" UUID,
ADD COLUMN     "teamName" TEXT,
DROP COLUMN "decision",
ADD COLUMN     "decision" "CertificationDecision";

-- AlterTable
ALTER TABLE "Notification" ADD COLUMN     "dedupeKey" TEXT,
ADD COLUMN     "emailError" TEXT,
ADD COLUMN     "emailedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "CampaignItemReviewer" (
    "itemId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "source" "ReviewerSource" NOT NULL,
    "delegatedFromId" UUID,
    "assignedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CampaignItemReviewer_pkey" PRIMARY KEY ("itemId","userId")
);

-- CreateTable
CREATE TABLE "CampaignSignOff" (
    "id" UUID NOT NULL,
    "campaignId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "attestation" TEXT NOT NULL,
    "itemCount" INTEGER NOT NULL,
    "itemsSha256" TEXT NOT NULL,
    "signedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CampaignSignOff_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CampaignItemReviewer_userId_idx" ON "CampaignItemReviewer"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "CampaignSignOff_campaignId_userId_key" ON "CampaignSignOff"("campaignId", "userId");

-- CreateIndex
CREATE INDEX "Campaign_status_dueAt_idx" ON "Campaign"("status", "dueAt");

-- CreateIndex
CREATE UNIQUE INDEX "Campaign_seriesId_period_key" ON "Campaign"("seriesId", "period");

-- CreateIndex
CREATE INDEX "CampaignItem_campaignId_principalId_idx" ON "CampaignItem"("campaignId", "principalId");

-- CreateIndex
CREATE INDEX "CampaignItem_campaignId_apiId_idx" ON "CampaignItem"("campaignId", "apiId");

-- CreateIndex
CREATE INDEX "CampaignItem_grantId_idx" ON "CampaignItem"("grantId");

-- CreateIndex
CREATE UNIQUE INDEX "Notification_dedupeKey_key" ON "Notification"("dedupeKey");

-- CreateIndex
CREATE INDEX "Notification_userId_createdAt_idx" ON "Notification"("userId", "createdAt");

-- AddForeignKey
ALTER TABLE "Campaign" ADD CONSTRAINT "Campaign_fallbackReviewerId_fkey" FOREIGN KEY ("fallbackReviewerId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Campaign" ADD CONSTRAINT "Campaign_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignItem" ADD CONSTRAINT "CampaignItem_grantId_fkey" FOREIGN KEY ("grantId") REFERENCES "Grant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignItem" ADD CONSTRAINT "CampaignItem_decidedById_fkey" FOREIGN KEY ("decidedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignItemReviewer" ADD CONSTRAINT "CampaignItemReviewer_itemId_fkey" FOREIGN KEY ("itemId") REFERENCES "CampaignItem"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignItemReviewer" ADD CONSTRAINT "CampaignItemReviewer_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignItemReviewer" ADD CONSTRAINT "CampaignItemReviewer_delegatedFromId_fkey" FOREIGN KEY ("delegatedFromId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignSignOff" ADD CONSTRAINT "CampaignSignOff_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignSignOff" ADD CONSTRAINT "CampaignSignOff_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Notification" ADD CONSTRAINT "Notification_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Hand-written.
-- A campaign item is enforced by at most one Decision (the report joins Decision on "campaignItemId").
CREATE UNIQUE INDEX "Decision_campaignItemId_key" ON "Decision" ("campaignItemId") WHERE "campaignItemId" IS NOT NULL;

-- Queues, reminders, escalation and close only ever look at undecided items.
CREATE INDEX "CampaignItem_pending_idx" ON "CampaignItem" ("campaignId") WHERE "decision" IS NULL;
