-- Evidence exports (lib/reports): one row per export an auditor or admin generated,
-- with the SHA-256 of the exact bytes sent, so a downloaded file can be checked
-- against it later. Written at start ("running") and completed or failed when the
-- stream ends; each transition is also an audit event.
CREATE TYPE "ExportStatus" AS ENUM ('running', 'completed', 'failed');

CREATE TABLE "ReportExport" (
    "id" UUID NOT NULL,
    "report" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "filters" JSONB NOT NULL,
    "actor" TEXT NOT NULL,
    "userId" UUID,
    "status" "ExportStatus" NOT NULL DEFAULT 'running',
    "rowCount" INTEGER,
    "byteCount" BIGINT,
    "sha256" TEXT,
    "error" TEXT,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ReportExport_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "ReportExport_startedAt_idx" ON "ReportExport"("startedAt");

-- The revocations log reads revoke/reduce decisions in time order.
CREATE INDEX "Decision_kind_createdAt_idx" ON "Decision"("kind", "createdAt");
