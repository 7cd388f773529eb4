import type { Tx } from "@/lib/db";
import { OUTBOX_CHANNEL } from "@/lib/enforcement/outbox";

/** The event types an admin can subscribe a webhook to. */
export const WEBHOOK_EVENTS = ["finding.opened", "decision.enforced", "campaign.overdue", "anomaly"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** What an outbox row holds for a webhook: the event, built once; delivery signs it (and reshapes it for Slack). */
export interface WebhookPayload {
  id: string;
  type: WebhookEvent;
  createdAt: string;
  /** One line for people (the Slack text). */
  summary: string;
  data: Record<string, unknown>;
}

/**
 * One outbox row per enabled webhook subscribed to the event, inside the
 * caller's transaction, so the event and its delivery promise commit together
 * (the delivery worker sends it: lib/enforcement/worker.ts). `key` makes the
 * event idempotent per webhook (e.g. the finding id). Wake the worker
 * (wakeDelivery) after commit. Returns the rows written.
 */
export async function enqueueWebhookEvent(tx: Tx, type: WebhookEvent, key: string, summary: string, data: Record<string, unknown>): Promise<number> {
  const targets = await tx.webhookEndpoint.findMany({ where: { enabled: true, events: { has: type } }, select: { id: true } });
  if (targets.length === 0) return 0;
  const id = `${type}:${key}`;
  const payload: WebhookPayload = { id, type, createdAt: new Date().toISOString(), summary, data };
  const r = await tx.outboxItem.createMany({
    data: targets.map((t) => ({ webhookId: t.id, idempotencyKey: id, operation: `webhook ${type}`, payload: payload as unknown as object })),
    skipDuplicates: true,
  });
  await tx.$executeRawUnsafe(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
  return r.count;
}
