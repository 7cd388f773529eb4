-- Hand-written for the review loop (lib/analysis, lib/review, lib/enforcement).

-- At most one analysis run at a time; a crashed run is marked failed by the next one.
CREATE UNIQUE INDEX "AnalysisRun_one_running" ON "AnalysisRun" ((true)) WHERE "status" = 'running';

-- The queue's default order and its filters only ever look at open findings.
CREATE INDEX "Finding_open_rule_idx" ON "Finding" ("rule", "riskScore" DESC, "openedAt", "id") WHERE "status" = 'open';

-- Every analysis run inserts or rewrites up to hundreds of thousands of findings:
-- each further index on "Finding" costs on every one of those rows, so the
-- approved-suppression lookup uses "Finding_grantId_idx" and the "decided" view
-- sorts its (filtered) rows instead of having indexes of their own.
