import type { PrismaClient } from "@/lib/db";
import { sendWebhook } from "./deliver";
import type { WebhookPayload } from "./events";

interface ClaimedWebhookRow {
  id: bigint;
  webhookId: string | null;
  payload: unknown;
  attempts: number;
}

interface Backoff {
  maxAttempts: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * The webhook half of the delivery worker's cycle (lib/enforcement/worker.ts
 * claims the rows, with the same lease, for proxies and webhooks alike): each
 * claimed row is POSTed, signed, to its endpoint. 2xx → applied ("delivered");
 * a failure → pending again after the worker's capped exponential backoff,
 * until maxAttempts, then failed; a 4xx the receiver means (not 408/429) fails
 * at once. One endpoint's rows go in order; endpoints in parallel.
 */
export async function deliverWebhooks(client: PrismaClient, rows: ClaimedWebhookRow[], o: Backoff): Promise<void> {
  if (rows.length === 0) return;
  const endpoints = await client.webhookEndpoint.findMany({
    where: { id: { in: [...new Set(rows.map((r) => r.webhookId!))] } },
    select: { id: true, url: true, secret: true, format: true, enabled: true },
  });
  await Promise.all(
    endpoints.map(async (ep) => {
      for (const row of rows.filter((r) => r.webhookId === ep.id).sort((a, b) => (a.id < b.id ? -1 : 1))) {
        if (!ep.enabled) {
          await record(client, row.id, "failed", "webhook disabled", 0);
          continue;
        }
        const attempt = await sendWebhook(ep, row.payload as WebhookPayload);
        if (attempt.ok) {
          await record(client, row.id, "applied", null, 0);
          continue;
        }
        const last = attempt.permanent || row.attempts >= o.maxAttempts;
        const backoff = Math.min(o.maxBackoffMs, o.baseBackoffMs * 2 ** Math.min(30, Math.max(0, row.attempts - 1)));
        await record(client, row.id, last ? "failed" : "pending", attempt.error, backoff);
      }
    }),
  );
}

async function record(client: PrismaClient, id: bigint, status: "applied" | "pending" | "failed", error: string | null, backoffMs: number): Promise<void> {
  if (status === "applied") {
    await client.$executeRaw`UPDATE "OutboxItem" SET status = 'applied', "appliedAt" = now(), "lastError" = NULL WHERE id = ${id} AND status = 'pending'`;
    return;
  }
  await client.$executeRaw`
    UPDATE "OutboxItem" SET status = ${status}::"OutboxStatus", "lastError" = ${error},
      "nextAttemptAt" = now() + make_interval(secs => ${backoffMs}::double precision / 1000)
    WHERE id = ${id} AND status = 'pending'`;
}
