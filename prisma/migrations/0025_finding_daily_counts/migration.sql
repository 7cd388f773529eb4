-- Issue 19 (overview trend): open findings per severity per UTC day, written by every analysis run.

-- CreateTable
CREATE TABLE "FindingDailyCount" (
    "day" DATE NOT NULL,
    "severity" "Severity" NOT NULL,
    "open" INTEGER NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'snapshot',
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FindingDailyCount_pkey" PRIMARY KEY ("day","severity")
);
