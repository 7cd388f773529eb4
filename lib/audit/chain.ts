import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { PrismaClient, Tx } from "@/lib/db";
import { actorLabel, type Actor } from "@/lib/auth/actor";
import { canonicalJSON, eventHash, GENESIS_HASH } from "./canonical";
import { verifyChainInWorkers } from "./chain-parallel";
import { ChainStitcher, verifyRange, type ChainVerification } from "./chain-range";
import { readChain, textBatches, type ChainRow, type EventBatch, type TextBatchQuery } from "./chain-read";

export type { ChainVerification } from "./chain-range";

/**
 * Every append takes this transaction-scoped advisory lock first, so appends
 * are serialised: each one reads the head of the chain only after the previous
 * appender committed (or rolled back). Arbitrary constant, unique to the audit log.
 */
const AUDIT_LOCK_KEY = 7461636801n;

const eventInput = z.object({
  action: z.string().regex(/^[a-z][a-z0-9_.:-]{1,63}$/, "must look like 'area.verb' (lowercase)"),
  target: z.string().max(500).nullish(),
});

export interface AuditEventInput {
  /** The caller, or a plain label for events without one (e.g. "anonymous" on a failed sign-in). */
  actor: Actor | string;
  action: string;
  target?: string | null;
  data?: unknown;
}

export interface AppendedEvent {
  seq: bigint;
  id: string;
  hash: string;
}

/**
 * Appends one event to the hash chain. Must run INSIDE the caller's
 * transaction (the one that makes the change the event records), so both
 * commit or neither does. Call it late in the transaction: the lock it takes
 * is held until commit and serialises all audited writes.
 */
export async function appendAuditEvent(tx: Tx, input: AuditEventInput): Promise<AppendedEvent> {
  if ("$transaction" in (tx as object)) {
    throw new Error("appendAuditEvent must be called with a transaction client (inside db().$transaction)");
  }
  const parsed = eventInput.parse({ action: input.action, target: input.target });
  const [lock] = await tx.$queryRaw<{ iso: string }[]>`
    SELECT current_setting('transaction_isolation') AS iso
    FROM (SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})) AS l`;
  // Under REPEATABLE READ / SERIALIZABLE the snapshot may predate the previous
  // appender's commit, so we would read a stale head and fork the chain.
  if (lock?.iso !== "read committed") {
    throw new Error(`appendAuditEvent needs a READ COMMITTED transaction, got ${lock?.iso}`);
  }
  const head = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { hash: true } });
  const prevHash = head?.hash ?? GENESIS_HASH;
  const dataText = canonicalJSON(input.data ?? {});
  const content = {
    id: randomUUID(),
    at: new Date(),
    actor: typeof input.actor === "string" ? input.actor : actorLabel(input.actor),
    action: parsed.action,
    target: parsed.target ?? null,
    data: JSON.parse(dataText) as unknown,
  };
  const hash = eventHash(prevHash, content);
  // The data goes to Postgres as the canonical text that was hashed, parsed by jsonb itself: through Prisma's
  // JSON parameter a number past 2^53 arrived with other digits, and the event then verified as modified.
  const [row] = await tx.$queryRaw<AppendedEvent[]>`
    INSERT INTO "AuditEvent" (id, at, actor, action, target, data, "prevHash", hash)
    VALUES (${content.id}::uuid, ${content.at}, ${content.actor}, ${content.action}, ${content.target}, ${dataText}::jsonb, ${prevHash}, ${hash})
    RETURNING seq, id::text AS id, hash`;
  return row;
}

export interface ChainWalkOptions {
  batchSize?: number;
  /** seqs whose stored hash the caller wants back (the seqs checkpoints name). */
  watch?: Set<bigint>;
  /** Filled with the hash found at each watched seq that exists. */
  found?: Map<bigint, string>;
  /** Read the events over plain pg connections to this database (fast path; the client's database). */
  databaseUrl?: string;
  /** With databaseUrl: how many connections read ranges in parallel (default 3). */
  connections?: number;
  /** With databaseUrl: check ranges in this many worker threads (the CLI); 0 = in this thread (the app). */
  workers?: number;
}

/**
 * Re-computes the chain in seq order (memory stays flat on a large log; see
 * chain-read.ts for how the events are read, chain-range.ts for how runs of
 * events are checked and joined). Reports the first event whose link or
 * content does not match. Watched seqs are recorded even past a break, so
 * checkpoints can still be compared with what the log holds.
 */
export async function verifyAuditChain(client: PrismaClient, opts: ChainWalkOptions = {}): Promise<ChainVerification> {
  if (opts.databaseUrl && opts.workers) {
    const inWorkers = await verifyChainInWorkers(opts.databaseUrl, { workers: opts.workers, rowsPerRange: opts.batchSize, watch: opts.watch, found: opts.found });
    if (inWorkers) return inWorkers;
  }
  if (opts.databaseUrl) return walkChain(readChain(opts.databaseUrl, { batchSize: opts.batchSize, connections: opts.connections }), opts);
  const query: TextBatchQuery = (sql, after, limit) => client.$queryRawUnsafe<ChainRow[]>(sql, after, limit);
  return walkChain(textBatches(query, opts.batchSize ?? 5000), opts);
}

async function walkChain(batches: AsyncIterable<EventBatch>, opts: ChainWalkOptions): Promise<ChainVerification> {
  const watch = opts.watch?.size ? new Set([...opts.watch].map(String)) : null;
  const maxWatched = opts.watch?.size ? [...opts.watch].reduce((a, b) => (b > a ? b : a)) : -1n;
  const stitcher = new ChainStitcher(opts.found);
  for await (const batch of batches) {
    stitcher.add(verifyRange([batch], watch));
    // Nothing more to learn once broken, unless a watched seq lies ahead (leaving the loop closes the reader).
    if (stitcher.isBroken && !(batch.lastSeq !== null && maxWatched > BigInt(batch.lastSeq))) break;
  }
  return stitcher.result();
}
