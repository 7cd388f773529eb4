-- Issue 17, points 2-4 (lib/discovery). Additive only.

-- Point 4: why a scope has its level (the import's evidence), and who overrode it.
ALTER TABLE "Scope" ADD COLUMN "levelEvidence" JSONB, ADD COLUMN "levelSetBy" TEXT, ADD COLUMN "levelSetAt" TIMESTAMPTZ(3);

-- Point 3: an admin stops routing a zombie endpoint; the proxies then answer it like an unknown route.
ALTER TABLE "Endpoint" ADD COLUMN "routingStoppedAt" TIMESTAMPTZ(3), ADD COLUMN "routingStoppedBy" TEXT, ADD COLUMN "routingStopReason" TEXT;

-- Point 3: requests per endpoint and day, as the proxies report them (a zombie's "traffic in the window").
CREATE TABLE "EndpointUsageDaily" (
    "endpointId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "requestCount" BIGINT NOT NULL,
    CONSTRAINT "EndpointUsageDaily_pkey" PRIMARY KEY ("endpointId", "day"),
    CONSTRAINT "EndpointUsageDaily_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "EndpointUsageDaily_day_idx" ON "EndpointUsageDaily"("day");

-- Points 2 and 3: findings about an endpoint rather than a grant (a public write in production,
-- a zombie still receiving traffic). "Finding" is a grant's finding (grantId NOT NULL, decided by
-- revoking or keeping the grant); these are decided on the endpoint, so they get a table of their own.
CREATE TYPE "EndpointFindingRule" AS ENUM ('public_write', 'zombie_traffic');
CREATE TYPE "EndpointFindingStatus" AS ENUM ('open', 'accepted', 'resolved');
CREATE TABLE "EndpointFinding" (
    "id" UUID NOT NULL,
    "endpointId" UUID NOT NULL,
    "environmentId" UUID NOT NULL,
    "rule" "EndpointFindingRule" NOT NULL,
    "severity" "Severity" NOT NULL,
    "evidence" JSONB NOT NULL,
    "status" "EndpointFindingStatus" NOT NULL DEFAULT 'open',
    "openedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closedAt" TIMESTAMPTZ(3),
    "closedBy" TEXT,
    "closedReason" TEXT,
    CONSTRAINT "EndpointFinding_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "EndpointFinding_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "EndpointFinding_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "EndpointFinding_status_rule_idx" ON "EndpointFinding"("status", "rule");
-- At most one open finding per endpoint and rule: re-running a check never duplicates one.
CREATE UNIQUE INDEX "EndpointFinding_open_key" ON "EndpointFinding"("endpointId", "rule") WHERE "status" = 'open';
