import { randomUUID } from "node:crypto";
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

export type CredentialValue = { id: string; principalId: string; hash: string; expiresAt: string | null };
/** Ops a principal's status change sends (credentials and grants). */
export type PrincipalOp =
  | BatchOp
  | { op: "delete"; kind: "credential"; id: string }
  | { op: "upsert"; kind: "credential"; value: CredentialValue };

/**
 * A principal's access follows its status to every proxy, through the outbox
 * like a decision (not only through drift repair): deprovisioned or suspended
 * → its credentials and grants are deleted; active again → what the snapshot
 * would send for it (unrevoked, unexpired credentials with a valid hash; active,
 * unexpired grants of each proxy's environment) is upserted. Credentials are not
 * per environment, so every proxy gets them. Call inside the status change's
 * transaction and wake the worker (wakeDelivery) after commit. Returns the rows written.
 */
export async function enqueuePrincipalAccess(tx: Tx, principalId: string, active: boolean): Promise<number> {
  const proxies = await tx.proxy.findMany({ select: { id: true, environmentId: true }, orderBy: { name: "asc" } });
  if (proxies.length === 0) return 0;
  const now = new Date();
  const credentials = await tx.credential.findMany({
    where: active ? { principalId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } : { principalId },
    select: { id: true, principalId: true, hash: true, expiresAt: true },
  });
  const grants = await tx.grant.findMany({
    where: active ? { principalId, status: "active", OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } : { principalId },
    select: { id: true, principalId: true, scopeId: true, environmentId: true, expiresAt: true },
  });
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const key = `principal:${principalId}:${active ? "active" : "inactive"}:${now.getTime()}:${randomUUID().slice(0, 8)}`;
  const rows = proxies.map((p) => {
    const own = grants.filter((g) => g.environmentId === p.environmentId);
    const ops: PrincipalOp[] = active
      ? [
          ...credentials.filter((c) => /^[0-9a-f]{64}$/.test(c.hash)).map((c) => ({ op: "upsert" as const, kind: "credential" as const, value: { id: c.id, principalId: c.principalId, hash: c.hash, expiresAt: iso(c.expiresAt) } })),
          ...own.map((g) => ({ op: "upsert" as const, kind: "grant" as const, value: { id: g.id, principalId: g.principalId, scopeId: g.scopeId, expiresAt: iso(g.expiresAt) } })),
        ]
      : [...credentials.map((c) => ({ op: "delete" as const, kind: "credential" as const, id: c.id })), ...own.map((g) => ({ op: "delete" as const, kind: "grant" as const, id: g.id }))];
    return { proxyId: p.id, idempotencyKey: key, operation: "POST /admin/v1/batch", payload: { idempotencyKey: key, ops } as unknown as object };
  });
  const nonEmpty = rows.filter((r) => ((r.payload as { ops: unknown[] }).ops.length > 0));
  if (nonEmpty.length === 0) return 0;
  await tx.outboxItem.createMany({ data: nonEmpty });
  await tx.$executeRawUnsafe(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
  return nonEmpty.length;
}

/**
 * The outbox rows of an access change (lib/access: keys issued, rotated or
 * revoked; grants from approved requests), one per target proxy, inside the
 * change's transaction. Like a decision's: the change id is the idempotency key
 * and the worker marks AccessChange.enforcement applied when every row is
 * acknowledged. Wake the worker (wakeDelivery) after commit. Returns the rows written.
 */
export async function enqueueAccessChange(tx: Tx, accessChangeId: string, proxyIds: string[], ops: PrincipalOp[]): Promise<number> {
  if (proxyIds.length === 0 || ops.length === 0) return 0;
  const key = `access:${accessChangeId}`;
  await tx.outboxItem.createMany({
    data: proxyIds.map((proxyId) => ({
      accessChangeId,
      proxyId,
      idempotencyKey: key,
      operation: "POST /admin/v1/batch",
      payload: { idempotencyKey: key, ops } as unknown as object,
    })),
  });
  await tx.$executeRawUnsafe(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
  return proxyIds.length;
}
