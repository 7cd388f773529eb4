-- A two-person-rule proposal is a state of its own (issue 20, point 6). Until now a proposal was
-- stored with the enforcement its plan would need once applied ('pending' for a revoke), so every
-- reader of 'pending' (the delivery poll, the campaign's "enforcing" count, the queue's poll) had to
-- exclude proposals with a second condition. Now a proposal's enforcement is 'proposed': nothing
-- was applied, nothing will be delivered until a second person confirms it; confirming sets the
-- enforcement the plan needs, exactly as a direct decision does (lib/review/record.ts).
--
-- The type is re-created rather than extended with ADD VALUE: a value added by ADD VALUE cannot be
-- used in the same transaction, and this migration runs as one script (lib/db/migrate.ts, and the
-- whole-script patch in lib/db/migrate-adapter.ts) that also moves the existing proposals.

-- The partial index below compares with a literal of the old type; it is rebuilt on the new one.
DROP INDEX "Decision_verify_due_idx";

ALTER TYPE "EnforcementState" RENAME TO "EnforcementState_old";
CREATE TYPE "EnforcementState" AS ENUM ('proposed', 'not_required', 'pending', 'applied', 'failed');

-- Data migration: every proposal still awaiting a second person becomes 'proposed'. Discarded
-- proposals are 'not_required' already (lib/campaigns/outcome.ts discardFields) and stay so.
ALTER TABLE "Decision" ALTER COLUMN "enforcement" DROP DEFAULT;
ALTER TABLE "Decision" ALTER COLUMN "enforcement" TYPE "EnforcementState"
  USING (CASE WHEN "awaitingConfirmation" THEN 'proposed' ELSE "enforcement"::text END)::"EnforcementState";
ALTER TABLE "Decision" ALTER COLUMN "enforcement" SET DEFAULT 'pending';

-- Access changes never wait for a second person; they only move to the new type.
ALTER TABLE "AccessChange" ALTER COLUMN "enforcement" DROP DEFAULT;
ALTER TABLE "AccessChange" ALTER COLUMN "enforcement" TYPE "EnforcementState" USING "enforcement"::text::"EnforcementState";
ALTER TABLE "AccessChange" ALTER COLUMN "enforcement" SET DEFAULT 'pending';

DROP TYPE "EnforcementState_old";

CREATE INDEX "Decision_verify_due_idx" ON "Decision" ("verifyNextAt")
  WHERE enforcement = 'applied' AND "verifiedRemovedAt" IS NULL AND kind IN ('revoke', 'reduce');

-- "awaitingConfirmation" stays as a read-only mirror for the readers that filter on it (the
-- reports); the database keeps the two from ever disagreeing.
ALTER TABLE "Decision" ADD CONSTRAINT "Decision_proposed_state"
  CHECK ("awaitingConfirmation" = ("enforcement" = 'proposed'));
ALTER TABLE "AccessChange" ADD CONSTRAINT "AccessChange_never_proposed" CHECK ("enforcement" <> 'proposed');
