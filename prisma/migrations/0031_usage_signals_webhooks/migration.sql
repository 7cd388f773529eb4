-- Issue 22, points 1-3: usage signals (endpoint and network history, per-minute counts), the anomaly
-- finding kinds evaluated at ingest, and outgoing webhooks delivered through the proxies' outbox.

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "FindingRule" ADD VALUE 'reactivated';
ALTER TYPE "FindingRule" ADD VALUE 'new_endpoint';
ALTER TYPE "FindingRule" ADD VALUE 'volume_spike';
ALTER TYPE "FindingRule" ADD VALUE 'new_network';

-- AlterTable
ALTER TABLE "OutboxItem" ADD COLUMN     "webhookId" UUID,
ALTER COLUMN "proxyId" DROP NOT NULL;

-- CreateTable
CREATE TABLE "CredentialEndpointSeen" (
    "credentialId" UUID NOT NULL,
    "endpointId" UUID NOT NULL,
    "firstSeenAt" TIMESTAMPTZ(3) NOT NULL,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CredentialEndpointSeen_pkey" PRIMARY KEY ("credentialId","endpointId")
);

-- CreateTable
CREATE TABLE "CredentialNetworkSeen" (
    "credentialId" UUID NOT NULL,
    "network" TEXT NOT NULL,
    "firstSeenAt" TIMESTAMPTZ(3) NOT NULL,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CredentialNetworkSeen_pkey" PRIMARY KEY ("credentialId","network")
);

-- CreateTable
CREATE TABLE "CredentialMinuteUsage" (
    "credentialId" UUID NOT NULL,
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "requestCount" INTEGER NOT NULL,

    CONSTRAINT "CredentialMinuteUsage_pkey" PRIMARY KEY ("credentialId","minute")
);

-- CreateTable
CREATE TABLE "WebhookEndpoint" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "events" TEXT[],
    "format" TEXT NOT NULL DEFAULT 'tollgate',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookEndpoint_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CredentialEndpointSeen_endpointId_idx" ON "CredentialEndpointSeen"("endpointId");

-- CreateIndex
CREATE INDEX "CredentialMinuteUsage_minute_idx" ON "CredentialMinuteUsage"("minute");

-- CreateIndex
CREATE UNIQUE INDEX "WebhookEndpoint_name_key" ON "WebhookEndpoint"("name");

-- CreateIndex
CREATE UNIQUE INDEX "OutboxItem_webhookId_idempotencyKey_key" ON "OutboxItem"("webhookId", "idempotencyKey");

-- AddForeignKey
ALTER TABLE "OutboxItem" ADD CONSTRAINT "OutboxItem_webhookId_fkey" FOREIGN KEY ("webhookId") REFERENCES "WebhookEndpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CredentialEndpointSeen" ADD CONSTRAINT "CredentialEndpointSeen_credentialId_fkey" FOREIGN KEY ("credentialId") REFERENCES "Credential"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CredentialEndpointSeen" ADD CONSTRAINT "CredentialEndpointSeen_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CredentialNetworkSeen" ADD CONSTRAINT "CredentialNetworkSeen_credentialId_fkey" FOREIGN KEY ("credentialId") REFERENCES "Credential"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CredentialMinuteUsage" ADD CONSTRAINT "CredentialMinuteUsage_credentialId_fkey" FOREIGN KEY ("credentialId") REFERENCES "Credential"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- An outbox row goes to exactly one target: a proxy or a webhook endpoint.
ALTER TABLE "OutboxItem" ADD CONSTRAINT "OutboxItem_one_target" CHECK (("proxyId" IS NULL) <> ("webhookId" IS NULL));
