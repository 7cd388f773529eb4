import type { PrismaClient, Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";

/**
 * Contention (issue 14): under load a transaction can fail for reasons that
 * say nothing about its input — no pooled connection within maxWait, the
 * interactive-transaction timeout, a deadlock or serialization failure. Each
 * of those rolled the whole transaction back, so running it again is safe; a
 * decision re-run finds its finding already decided (a clean 409) if a
 * previous attempt did commit. After the retries the caller gets a typed
 * "busy, try again" (503), never Prisma's raw text.
 */

/** Postgres SQLSTATEs after which the transaction was rolled back and may simply be run again. */
const RETRYABLE_SQLSTATES = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available (lock_timeout)
]);

/** Prisma: P2028 transaction API error (could not start in maxWait / expired), P2034 write conflict or deadlock. */
const RETRYABLE_PRISMA = new Set(["P2028", "P2034"]);

export function isRetryableDbError(e: unknown): boolean {
  if (!e || typeof e !== "object") return false;
  const err = e as { code?: unknown; message?: unknown; cause?: { originalCode?: unknown }; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } };
  if (typeof err.code === "string" && (RETRYABLE_PRISMA.has(err.code) || RETRYABLE_SQLSTATES.has(err.code))) return true;
  const sqlstate = err.cause?.originalCode ?? err.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof sqlstate === "string" && RETRYABLE_SQLSTATES.has(sqlstate)) return true;
  // Raw queries (P2010) carry the SQLSTATE only in their message: "Raw query failed. Code: `40P01`".
  return typeof err.message === "string" && /Code: `(40001|40P01|55P03)`/.test(err.message);
}

export const busy = (what: string) =>
  new AppError("busy", `The database is busy and could not ${what} just now; nothing was changed. Try again in a moment.`);

/** Process-wide counts, for the load test's report (bench/contention.ts). */
export const retryStats = { retried: 0, gaveUp: 0, reasons: {} as Record<string, number> };

/** A short label for why a transaction was re-run: the Prisma code or SQLSTATE plus the gist. */
function reason(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = String(err.message ?? "");
  if (/Unable to start a transaction/.test(msg)) return "P2028 no connection within maxWait";
  if (/expired transaction|Transaction already closed/.test(msg)) return "P2028 transaction timeout";
  const sqlstate = /Code: `(\w+)`/.exec(msg)?.[1];
  return `${err.code ?? "?"}${sqlstate ? ` ${sqlstate}` : ""}`;
}

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each retry (logging, counting in benchmarks). */
  onRetry?: (attempt: number, e: unknown) => void;
}

/**
 * Runs `fn` (one whole transaction) and re-runs it after a retryable failure,
 * with jittered exponential backoff so colliding callers spread out. Anything
 * else propagates unchanged; exhausting the attempts throws busy(what).
 */
export async function retryTransaction<T>(what: string, fn: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const attempts = o.attempts ?? 5;
  const base = o.baseDelayMs ?? 50;
  const cap = o.maxDelayMs ?? 2_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetryableDbError(e)) throw e;
      if (attempt >= attempts) {
        retryStats.gaveUp++;
        console.warn(`[db] gave up after ${attempt} attempts to ${what}:`, e instanceof Error ? e.message : e);
        throw busy(what);
      }
      retryStats.retried++;
      const why = reason(e);
      retryStats.reasons[why] = (retryStats.reasons[why] ?? 0) + 1;
      o.onRetry?.(attempt, e);
      const delay = Math.min(cap, base * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * (delay / 2)));
    }
  }
}

/**
 * Transaction options for the short transactions people wait on. Prisma's
 * defaults (maxWait 2 s to get a connection, 5 s to finish) were too tight
 * under the load test: a decision queues behind others for the audit chain's
 * lock (lib/audit/chain.ts), which is part of its 5 s. Measured under the
 * issue-14 load (docs/BENCHMARKS.md, "Contention"), then doubled for margin.
 */
export const DECISION_TX = { maxWait: 5_000, timeout: 15_000 } as const;
/** Export records: as short as a decision, same budget. */
export const RECORD_TX = DECISION_TX;
/** An export's outcome: the bytes were served, so keep trying for about a minute. */
export const OUTCOME_RETRY: RetryOptions = { attempts: 10, baseDelayMs: 200, maxDelayMs: 5_000 };

/**
 * `retrying(client, what).$transaction(fn, options)`: the client's interactive
 * transaction, run through retryTransaction. Reads like the call it replaces,
 * so a use case keeps its one visible transaction.
 */
export function retrying(client: PrismaClient, what: string, o?: RetryOptions) {
  return {
    $transaction: <T>(fn: (tx: Tx) => Promise<T>, options?: { maxWait?: number; timeout?: number }): Promise<T> =>
      retryTransaction(what, () => client.$transaction(fn, options), o),
  };
}
