import { randomUUID } from "node:crypto";
import pg from "pg";
import { z } from "zod";
import type { PrismaClient, Tx } from "@/lib/db";
import { actorLabel, type Actor } from "@/lib/auth/actor";
import { canonicalJSON, eventHash, eventHashFromText, GENESIS_HASH } from "./canonical";

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
  const content = {
    id: randomUUID(),
    at: new Date(),
    actor: typeof input.actor === "string" ? input.actor : actorLabel(input.actor),
    action: parsed.action,
    target: parsed.target ?? null,
    // Stored exactly as hashed: the canonical form, re-parsed.
    data: JSON.parse(canonicalJSON(input.data ?? {})) as unknown,
  };
  const hash = eventHash(prevHash, content);
  const row = await tx.auditEvent.create({
    data: { ...content, data: content.data as object, prevHash, hash },
    select: { seq: true, id: true, hash: true },
  });
  return row;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  headHash: string;
  /** seq of the last event verified (null on an empty log). */
  headSeq: string | null;
  firstBroken?: { seq: string; id: string; action: string; at: string; reason: string };
}

export interface ChainWalkOptions {
  batchSize?: number;
  /** seqs whose stored hash the caller wants back (the seqs checkpoints name). */
  watch?: Set<bigint>;
  /** Filled with the hash found at each watched seq that exists. */
  found?: Map<bigint, string>;
  /** Read the events over a plain pg connection to this database (fast path; the client's database). */
  databaseUrl?: string;
}

/** One event as text, straight from SQL: no Date or JSON decoding beyond what the hash needs. */
interface ChainRow {
  seq: string;
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  data: string;
  prevHash: string;
  hash: string;
}

// at as ISO-8601 UTC with milliseconds, exactly Date.toISOString()'s form (timestamptz(3)).
// ORDER BY e.seq: "seq" alone would sort by the text alias.
const BATCH_SQL = `
  SELECT e.seq::text AS seq, e.id::text AS id,
         to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
         e.actor, e.action, e.target, e.data::text AS data, e."prevHash", e.hash
  FROM "AuditEvent" e WHERE e.seq > $1::bigint ORDER BY e.seq LIMIT $2::int`;

type FetchBatch = (afterSeq: bigint, limit: number) => Promise<ChainRow[]>;

const prismaBatches = (client: PrismaClient): FetchBatch => (afterSeq, limit) => client.$queryRawUnsafe<ChainRow[]>(BATCH_SQL, afterSeq, limit);

/** Plain pg for large logs: rows arrive as text, without the ORM's per-row work (several times faster at a million events). */
function pgBatches(conn: pg.Client): FetchBatch {
  return async (afterSeq, limit) => (await conn.query<ChainRow>(BATCH_SQL, [afterSeq.toString(), limit])).rows;
}

/**
 * Re-computes the chain in seq order, in batches (memory stays flat on a
 * large log; the next batch is fetched while this one is hashed). Reports the
 * first event whose link or content does not match. Watched seqs are recorded
 * even past a break, so checkpoints can still be compared with what the log holds.
 */
export async function verifyAuditChain(client: PrismaClient, opts: ChainWalkOptions = {}): Promise<ChainVerification> {
  if (!opts.databaseUrl) return walkChain(prismaBatches(client), opts);
  const conn = new pg.Client({ connectionString: opts.databaseUrl });
  await conn.connect();
  try {
    // One snapshot for the whole walk: events appended meanwhile are simply not part of this verification.
    await conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    return await walkChain(pgBatches(conn), opts);
  } finally {
    await conn.query("ROLLBACK").catch(() => undefined);
    await conn.end();
  }
}

async function walkChain(fetchBatch: FetchBatch, opts: ChainWalkOptions): Promise<ChainVerification> {
  const batchSize = opts.batchSize ?? 5000;
  const watch = opts.watch ? new Set([...opts.watch].map(String)) : null;
  const maxWatched = opts.watch && opts.watch.size ? [...opts.watch].reduce((a, b) => (b > a ? b : a)) : -1n;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  let headSeq: string | null = null;
  let broken: ChainVerification["firstBroken"];
  let next = fetchBatch(-1n, batchSize);
  for (;;) {
    const rows = await next;
    const last = rows.length === batchSize ? BigInt(rows[rows.length - 1].seq) : null;
    // Nothing more to learn once broken, unless a watched seq lies ahead.
    const more = last !== null && (!broken || maxWatched > last);
    if (more) next = fetchBatch(last!, batchSize);
    for (const row of rows) {
      if (watch?.has(row.seq)) opts.found?.set(BigInt(row.seq), row.hash);
      if (broken) continue;
      const fail = (reason: string) => {
        broken = { seq: row.seq, id: row.id, action: row.action, at: row.at, reason };
      };
      if (row.prevHash !== prevHash) {
        fail("prevHash does not match the previous event's hash (an event was removed, inserted or reordered before it)");
        continue;
      }
      if (row.hash !== eventHashFromText(prevHash, row)) {
        fail("content does not match its hash (the event was modified)");
        continue;
      }
      prevHash = row.hash;
      headSeq = row.seq;
      checked++;
    }
    if (!more || (broken && !(maxWatched > (last ?? -1n)))) break;
  }
  return broken ? { ok: false, checked, headHash: prevHash, headSeq, firstBroken: broken } : { ok: true, checked, headHash: prevHash, headSeq };
}
