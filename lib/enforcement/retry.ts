import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { conflict, fromZod } from "@/lib/errors";
import { wakeDelivery } from "./wake";

export const retryInput = z.object({ decisionId: z.uuid("must be a decision id") });

/** The "retry" button on a failed enforcement: its undelivered rows are due now, with a fresh attempt count. */
export async function retryEnforcement(actor: Actor, input: unknown, client: PrismaClient = db()) {
  authorize(actor, "findings:decide");
  const parsed = retryInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const { decisionId } = parsed.data;
  const count = await client.$transaction(async (tx) => {
    const reset = await tx.outboxItem.updateMany({
      where: { decisionId, status: { in: ["failed", "pending"] } },
      data: { status: "pending", attempts: 0, nextAttemptAt: new Date(), lastError: null },
    });
    if (reset.count === 0) throw conflict("Nothing to retry: every delivery of this decision was applied");
    await tx.decision.update({ where: { id: decisionId }, data: { enforcement: "pending" } });
    await appendAuditEvent(tx, { actor, action: "enforcement.retry", target: `decision:${decisionId}`, data: { rows: reset.count } });
    return reset.count;
  });
  wakeDelivery();
  return { decisionId, retried: count };
}
