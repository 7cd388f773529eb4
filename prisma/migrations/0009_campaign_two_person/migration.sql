-- The two-person rule for certification campaigns (issue 7, "Separation of duties from the
-- identity issue applies"): a certifier's decision on a grant the rule covers is stored as a
-- proposal — the item's Decision row with "awaitingConfirmation" — and applied only when a second
-- person confirms it. Generated with prisma migrate diff from the 0008 schema, plus hand-written
-- constraints and the index change at the end.
--
-- No status column on "CampaignItem": an item awaits confirmation exactly when it is undecided and
-- its live Decision row awaits confirmation. A second copy of that fact on the item could disagree
-- with the Decision; the row is already joined wherever items are listed.

-- CreateEnum
CREATE TYPE "ProposalDiscard" AS ENUM ('rejected', 'superseded');

-- AlterTable
ALTER TABLE "Decision" ADD COLUMN     "discard" "ProposalDiscard",
ADD COLUMN     "discardNote" TEXT,
ADD COLUMN     "discardedAt" TIMESTAMPTZ(3),
ADD COLUMN     "discardedById" UUID,
ADD COLUMN     "plannedRevokeGrantIds" UUID[] DEFAULT ARRAY[]::UUID[];

-- AlterTable
ALTER TABLE "CampaignItem" ADD COLUMN     "confirmedById" UUID;

-- AddForeignKey
ALTER TABLE "Decision" ADD CONSTRAINT "Decision_discardedById_fkey" FOREIGN KEY ("discardedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignItem" ADD CONSTRAINT "CampaignItem_confirmedById_fkey" FOREIGN KEY ("confirmedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- Hand-written.
-- "plannedRevokeGrantIds" stays empty on older rows: it is read only when a campaign proposal is
-- confirmed, and campaign decisions were never proposals before this migration.

-- A discarded proposal is over: it never awaits confirmation again, and says when it ended.
ALTER TABLE "Decision" ADD CONSTRAINT "Decision_discard_closed"
  CHECK ("discard" IS NULL OR (NOT "awaitingConfirmation" AND "discardedAt" IS NOT NULL));

-- At most one live Decision per campaign item (the proposal, or the applied decision). A rejected
-- proposal stays as history, so the item can be decided again.
DROP INDEX "Decision_campaignItemId_key";
CREATE UNIQUE INDEX "Decision_campaignItemId_key" ON "Decision" ("campaignItemId") WHERE "campaignItemId" IS NOT NULL AND "discard" IS NULL;
