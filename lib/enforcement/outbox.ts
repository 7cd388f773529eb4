import type { Tx } from "@/lib/db";

/** Channel the delivery worker LISTENs on (real Postgres only; see wake.ts for the in-process path). */
export const OUTBOX_CHANNEL = "tollgate_outbox";

export type BatchOp = { op: "delete"; kind: "grant"; id: string } | { op: "upsert"; kind: "grant"; value: GrantValue };
export interface GrantValue {
  id: string;
  principalId: string;
  scopeId: string;
  expiresAt: string | null;
}
/** A `POST /admin/v1/batch` body (docs/ARCHITECTURE.md). */
export interface BatchBody {
  idempotencyKey: string;
  ops: BatchOp[];
}

/** The enforcement targets of an environment: every proxy serving it. */
export async function proxyTargets(tx: Tx, environmentId: string): Promise<string[]> {
  const rows = await tx.proxy.findMany({ where: { environmentId }, select: { id: true }, orderBy: { name: "asc" } });
  return rows.map((r) => r.id);
}

/**
 * Writes one outbox row per proxy serving the environment, inside the
 * decision's transaction, so the change and its delivery promise commit together.
 * The decision id is the idempotency key: every proxy applies it at most once,
 * however often the worker redelivers. Returns how many targets there are.
 */
export async function enqueueBatch(tx: Tx, decisionId: string, proxyIds: string[], ops: BatchOp[]): Promise<number> {
  if (proxyIds.length === 0 || ops.length === 0) return 0;
  const proxies = proxyIds.map((id) => ({ id }));
  const body: BatchBody = { idempotencyKey: decisionId, ops };
  await tx.outboxItem.createMany({
    data: proxies.map((p) => ({
      decisionId,
      proxyId: p.id,
      idempotencyKey: decisionId,
      operation: "POST /admin/v1/batch",
      payload: body as unknown as object,
    })),
  });
  // Delivered to listeners only when the transaction commits.
  await tx.$executeRawUnsafe(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
  return proxies.length;
}
