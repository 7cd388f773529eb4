import pg from "pg";
import copyStreams from "pg-copy-streams";
import { eventHashFromBytes, type EventSpans } from "./canonical-bytes";
import type { AuditRow } from "./query";

/**
 * Reading the whole audit log fast, for verification. A million events is
 * mostly Postgres producing rows and Node decoding them, so:
 * - the log is cut into ranges of about ROWS_PER_RANGE events and read over
 *   several connections at once (Postgres works on several cores), all in ONE
 *   snapshot (pg_export_snapshot), so the walk sees exactly one state of the log;
 * - each range is one binary COPY: no text formatting of timestamps on the
 *   server, no per-row protocol messages, and rows are decoded from the buffer
 *   into one reused row object, not an object per row;
 * - ranges are handed to the walk strictly in seq order, with at most one range
 *   per connection in flight or waiting, so memory stays flat.
 * The embedded PGlite server shares one session between connections (a second
 * transaction would wait for the first forever), so there it is one connection
 * and plain text batches, as before.
 */

/** One event as the chain walk needs it: the Audit page's row, with data as jsonb text and the link. */
export interface ChainRow extends Omit<AuditRow, "data"> {
  data: string;
  prevHash: string;
  /** eventHash of this row, when the reader can compute it faster than from the text fields. */
  contentHash?(): string;
}

/**
 * A run of consecutive events. each() may hand the visitor the same (reused) row
 * object every time; a row with contentHash() computes its own hash (from bytes).
 */
export interface EventBatch {
  lastSeq: string | null;
  each(visit: (row: ChainRow) => void): void;
}

const ROWS_PER_RANGE = 25_000;
const COLUMNS = `seq, id::text, at, actor, action, target, data, "prevHash", hash`;

// at as ISO-8601 UTC with milliseconds, exactly Date.toISOString()'s form (timestamptz(3)).
// ORDER BY e.seq: "seq" alone would sort by the text alias.
const TEXT_BATCH_SQL = `
  SELECT e.seq::text AS seq, e.id::text AS id,
         to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
         e.actor, e.action, e.target, e.data::text AS data, e."prevHash", e.hash
  FROM "AuditEvent" e WHERE e.seq > $1::bigint ORDER BY e.seq LIMIT $2::int`;

export type TextBatchQuery = (sql: string, afterSeq: string, limit: number) => Promise<ChainRow[]>;

/** Plain text batches by keyset (the ORM path, and the embedded server): the next batch is fetched while this one is walked. */
export async function* textBatches(query: TextBatchQuery, batchSize: number): AsyncGenerator<EventBatch> {
  let next: Promise<ChainRow[]> | null = query(TEXT_BATCH_SQL, "-1", batchSize);
  while (next) {
    const rows: ChainRow[] = await next;
    const lastSeq = rows.length ? rows[rows.length - 1].seq : null;
    next = rows.length === batchSize ? query(TEXT_BATCH_SQL, lastSeq!, batchSize) : null;
    yield { lastSeq, each: (visit) => rows.forEach(visit) };
  }
}

/** A read-only snapshot of the log, cut into ranges of about rowsPerRange events. */
export interface ChainSnapshot {
  leader: pg.Client;
  /** The embedded PGlite server: one session for all connections, so no second connection and no binary COPY. */
  embedded: boolean;
  ranges: number;
  /** The binary COPY that reads range i. */
  rangeSql(i: number): string;
  /** The highest seq range i can hold (null for the last, open-ended one). */
  rangeEnd(i: number): bigint | null;
  /** Exports the snapshot for other connections (SET TRANSACTION SNAPSHOT). */
  exportId(): Promise<string>;
  close(): Promise<void>;
}

export async function openChainSnapshot(url: string, rowsPerRange = ROWS_PER_RANGE): Promise<ChainSnapshot> {
  const leader = new pg.Client({ connectionString: url });
  await leader.connect();
  const close = async () => {
    await leader.query("ROLLBACK").catch(() => undefined);
    await leader.end();
  };
  try {
    // One snapshot for the whole walk: events appended meanwhile are simply not part of this verification.
    await leader.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows: [server] } = await leader.query<{ v: string }>("SELECT version() AS v");
    const embedded = /PGlite|emscripten/i.test(server.v);
    // Range ends by row count, not by seq value: seq may have gaps of any size.
    const bounds = embedded
      ? []
      : (
          await leader.query<{ seq: string }>(
            `SELECT seq::text AS seq FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS rn FROM "AuditEvent") t WHERE rn % $1 = 0 ORDER BY t.seq`,
            [rowsPerRange],
          )
        ).rows.map((r) => BigInt(r.seq));
    return {
      leader,
      embedded,
      ranges: bounds.length + 1,
      rangeEnd: (i) => (i < bounds.length ? bounds[i] : null),
      rangeSql(i) {
        const where = [i > 0 && `seq > ${bounds[i - 1]}`, i < bounds.length && `seq <= ${bounds[i]}`].filter(Boolean).join(" AND ") || "true";
        return `COPY (SELECT ${COLUMNS} FROM "AuditEvent" WHERE ${where} ORDER BY seq) TO STDOUT (FORMAT binary)`;
      },
      exportId: async () => (await leader.query<{ id: string }>("SELECT pg_export_snapshot() AS id")).rows[0].id,
      close,
    };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}

/** A second connection reading the same snapshot. */
export async function joinChainSnapshot(url: string, snapshotId: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  await c.query(`SET TRANSACTION SNAPSHOT '${snapshotId.replace(/[^0-9A-Za-z-]/g, "")}'`);
  return c;
}

/**
 * Every event, in seq order, read in this thread over up to `connections`
 * connections sharing one snapshot. Stop early by leaving the for-await loop:
 * the connections are closed either way.
 */
export async function* readChain(url: string, opts: { connections?: number; batchSize?: number } = {}): AsyncGenerator<EventBatch> {
  const snap = await openChainSnapshot(url, opts.batchSize);
  const clients = [snap.leader];
  try {
    if (snap.embedded) {
      yield* textBatches(async (sql, after, limit) => (await snap.leader.query<ChainRow>(sql, [after, limit])).rows, opts.batchSize ?? 5000);
      return;
    }
    const want = Math.max(1, Math.min(opts.connections ?? 3, snap.ranges));
    if (want > 1) {
      const id = await snap.exportId();
      for (let i = 1; i < want; i++) clients.push(await joinChainSnapshot(url, id));
    }
    const conns = clients.length;
    const inFlight: (Promise<Buffer> | undefined)[] = [];
    let started = 0;
    // Range i runs on connection i % conns, started only once range i - conns was taken: that connection is then idle.
    const startNext = () => {
      if (started < snap.ranges) inFlight[started] = copyOut(clients[started % conns], snap.rangeSql(started++));
    };
    for (let i = 0; i < conns; i++) startNext();
    try {
      for (let i = 0; i < snap.ranges; i++) {
        const buf = await inFlight[i]!;
        inFlight[i] = undefined;
        startNext();
        yield binaryBatch(buf);
      }
    } finally {
      // Stopped early (or failed): let the copies still running finish before the connections close.
      await Promise.allSettled(inFlight.filter(Boolean));
    }
  } finally {
    await Promise.allSettled(clients.slice(1).map(async (c) => {
      await c.query("ROLLBACK").catch(() => undefined);
      await c.end();
    }));
    await snap.close();
  }
}

export function copyOut(client: pg.Client, sql: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const stream = client.query(copyStreams.to(sql));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", reject);
    stream.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
// Microseconds between the Unix epoch and Postgres' (2000-01-01), for binary timestamps.
const PG_EPOCH_MS = 946_684_800_000;

/**
 * One row of a binary COPY, read in place: seq and the two hashes are decoded
 * (every row needs them), the other fields only when asked for (a broken
 * event's identity), and the content hash is computed from the bytes
 * (eventHashFromBytes) without decoding them at all.
 */
class BinaryRow implements ChainRow {
  seq = "";
  prevHash = "";
  hash = "";
  readonly spans: EventSpans = { prevHash: 0, prevHashEnd: 0, id: 0, idEnd: 0, atMs: 0, actor: 0, actorEnd: 0, action: 0, actionEnd: 0, target: -1, targetEnd: -1, data: 0, dataEnd: 0 };

  constructor(private readonly buf: Buffer) {}

  get id(): string {
    return this.buf.toString("utf8", this.spans.id, this.spans.idEnd);
  }
  get at(): string {
    return new Date(this.spans.atMs).toISOString();
  }
  get actor(): string {
    return this.buf.toString("utf8", this.spans.actor, this.spans.actorEnd);
  }
  get action(): string {
    return this.buf.toString("utf8", this.spans.action, this.spans.actionEnd);
  }
  get target(): string | null {
    return this.spans.target < 0 ? null : this.buf.toString("utf8", this.spans.target, this.spans.targetEnd);
  }
  get data(): string {
    return this.buf.toString("utf8", this.spans.data, this.spans.dataEnd);
  }
  contentHash(): string {
    return eventHashFromBytes(this.buf, this.spans);
  }
}

/** Decodes one binary COPY of the COLUMNS above, lazily, into a single reused row. */
export function binaryBatch(buf: Buffer): EventBatch {
  if (buf.length < 19 || !buf.subarray(0, 11).equals(SIGNATURE)) throw new Error("audit chain read: not a binary COPY stream");
  const start = 19 + buf.readInt32BE(15);
  let lastSeq: string | null = null;
  const row = new BinaryRow(buf);
  const sp = row.spans;
  let p = start;
  let n = 0;
  const int64 = (): number | bigint => {
    const hi = buf.readInt32BE(p);
    const lo = buf.readUInt32BE(p + 4);
    const v = Math.abs(hi) < 0x200000 ? hi * 4294967296 + lo : buf.readBigInt64BE(p);
    p += 8;
    return v;
  };
  // A text field's bytes: sets `from` and returns the end (-1 for NULL).
  let from = 0;
  const field = (): number => {
    const len = buf.readInt32BE(p);
    p += 4;
    if (len < 0) return (from = -1);
    from = p;
    p += len;
    return p;
  };
  const required = (what: string): number => {
    const end = field();
    if (end < 0) throw new Error(`audit chain read: ${what} is NULL at seq ${row.seq}`);
    return end;
  };
  // Walk once to find lastSeq cheaply (only seq fields are read).
  for (;;) {
    const fields = buf.readInt16BE(p);
    if (fields === -1) break;
    if (fields !== 9) throw new Error(`audit chain read: expected 9 columns, got ${fields}`);
    p += 2 + 4;
    lastSeq = String(int64());
    for (let f = 1; f < 9; f++) {
      const len = buf.readInt32BE(p);
      p += 4 + Math.max(0, len);
    }
    n++;
  }
  return {
    lastSeq,
    each(visit) {
      p = start;
      for (let i = 0; i < n; i++) {
        p += 2 + 4; // field count, seq length (8)
        row.seq = String(int64());
        sp.idEnd = required("id");
        sp.id = from;
        p += 4; // at: length (8)
        const hi = buf.readInt32BE(p);
        const lo = buf.readUInt32BE(p + 4);
        p += 8;
        sp.atMs = (hi * 4294967296 + lo) / 1000 + PG_EPOCH_MS;
        sp.actorEnd = required("actor");
        sp.actor = from;
        sp.actionEnd = required("action");
        sp.action = from;
        sp.targetEnd = field();
        sp.target = from;
        // jsonb in binary: a version byte (1), then its text.
        const len = buf.readInt32BE(p);
        if (len < 1 || buf[p + 4] !== 1) throw new Error(`audit chain read: unexpected jsonb format at seq ${row.seq}`);
        sp.data = p + 5;
        sp.dataEnd = p + 4 + len;
        p += 4 + len;
        sp.prevHashEnd = required("prevHash");
        sp.prevHash = from;
        row.prevHash = buf.toString("utf8", from, p);
        required("hash");
        row.hash = buf.toString("utf8", from, p);
        visit(row);
      }
    },
  };
}
