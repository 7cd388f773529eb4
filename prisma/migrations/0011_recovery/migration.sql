-- Recovery after a database blip or a killed process (issue 14, item 4).

-- A running analysis writes a heartbeat every few seconds; a "running" row whose
-- heartbeat stopped belongs to a run that died (process killed, database gone
-- mid-run) and no longer blocks a new run.
ALTER TABLE "AnalysisRun" ADD COLUMN "heartbeatAt" TIMESTAMPTZ(3) NOT NULL DEFAULT now();

-- The removal check ("verified removed") is a retried step of its own: the
-- delivery worker claims due checks with a lease (verifyNextAt) and backs off
-- after a failed check, so a worker killed between "applied" and the check
-- leaves it due for the next worker instead of lost.
ALTER TABLE "Decision" ADD COLUMN "verifyAttempts" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "Decision" ADD COLUMN "verifyNextAt" TIMESTAMPTZ(3);
CREATE INDEX "Decision_verify_due_idx" ON "Decision" ("verifyNextAt")
  WHERE enforcement = 'applied' AND "verifiedRemovedAt" IS NULL AND kind IN ('revoke', 'reduce');
