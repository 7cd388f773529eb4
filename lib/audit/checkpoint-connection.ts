import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * The two statements a checkpoint waits for — read the head (and the last
 * checkpoint of this key), then insert the signed row — on one plain pg
 * connection of their own, as named prepared statements. Through Prisma each
 * was a pool checkout plus the query pipeline (~1 ms of CPU apiece); here each
 * is one Bind/Execute round trip of a plan prepared once. A connection of its
 * own also means a checkpoint never waits behind decisions for a pool slot.
 * The signature has to be made between the two (the key is not in the
 * database), so they cannot be one statement.
 *
 * One connection per database URL and process, opened on first use, reopened
 * after an error. Its socket is unreferenced while idle, so it never holds a
 * process open. Statement names carry a random suffix: on the embedded PGlite
 * server every connection shares one session, and a reopened connection must
 * not collide with names its predecessor prepared there.
 */
export interface HeadRow {
  seq: bigint | null;
  hash: string | null;
  lastSeq: bigint | null;
  lastHash: string | null;
  lastMessage: string | null;
  lastSignature: string | null;
}

export interface CheckpointRow {
  id: string;
  seq: bigint;
  headHash: string;
  at: Date;
  keyId: string;
  message: string;
  signature: string;
  reason: string;
}

export const HEAD_SQL = `
  SELECT h.seq::text AS seq, h.hash, c.seq::text AS "lastSeq", c."headHash" AS "lastHash", c.message AS "lastMessage", c.signature AS "lastSignature"
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (SELECT seq, hash FROM "AuditEvent" ORDER BY seq DESC LIMIT 1) h ON true
  LEFT JOIN LATERAL (SELECT seq, "headHash", message, signature FROM "AuditCheckpoint" WHERE "keyId" = $1 ORDER BY seq DESC, at DESC LIMIT 1) c ON true`;

// Committed without waiting for the WAL flush (synchronous_commit off for this one statement's transaction, not
// the session: on PGlite the session is everyone's). See publish.ts for why that is safe for this row.
export const INSERT_SQL = `
  INSERT INTO "AuditCheckpoint" (id, seq, "headHash", at, "keyId", message, signature, reason)
  SELECT $1::uuid, $2::bigint, $3::text, $4::timestamptz, $5::text, $6::text, $7::text, $8::text
  FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit`;

// pg.Client has ref()/unref() (they pass to its socket), but @types/pg does not declare them.
type RefClient = pg.Client & { ref(): void; unref(): void };

const big = (v: string | null) => (v === null ? null : BigInt(v));

/** HEAD_SQL's row (seqs as text, so that both pg and Prisma hand them over the same way) as a HeadRow. */
export function toHeadRow(r: Record<keyof HeadRow, string | null> | undefined): HeadRow | null {
  return r ? { seq: big(r.seq), hash: r.hash, lastSeq: big(r.lastSeq), lastHash: r.lastHash, lastMessage: r.lastMessage, lastSignature: r.lastSignature } : null;
}

class CheckpointConnection {
  private client: Promise<RefClient> | null = null;
  private busy = 0;
  private readonly names = { head: "", insert: "" };

  constructor(private readonly url: string) {}

  private connect(): Promise<RefClient> {
    this.client ??= (async () => {
      const suffix = randomBytes(4).toString("hex");
      this.names.head = `tollgate_checkpoint_head_${suffix}`;
      this.names.insert = `tollgate_checkpoint_insert_${suffix}`;
      const c = new pg.Client({ connectionString: this.url, application_name: "tollgate-audit-checkpoint" }) as RefClient;
      // A dropped connection (restart, terminated backend) is forgotten; the next checkpoint opens a new one.
      c.on("error", () => this.forget(c));
      c.on("end", () => this.forget(c));
      try {
        await c.connect();
      } catch (e) {
        this.client = null;
        throw e;
      }
      if (this.busy === 0) c.unref();
      return c;
    })();
    return this.client;
  }

  private forget(c: pg.Client): void {
    void this.client?.then((current) => {
      if (current === c) this.client = null;
    });
  }

  private async run<R extends pg.QueryResultRow>(statement: "head" | "insert", text: string, values: unknown[]): Promise<R[]> {
    this.busy++;
    let c: RefClient | null = null;
    try {
      c = await this.connect();
      c.ref();
      // pg parses a named statement once per connection, on its first use there.
      return (await c.query<R>({ name: this.names[statement], text, values })).rows;
    } finally {
      if (--this.busy === 0) c?.unref();
    }
  }

  async head(keyId: string): Promise<HeadRow | null> {
    return toHeadRow((await this.run<Record<keyof HeadRow, string | null>>("head", HEAD_SQL, [keyId]))[0]);
  }

  async insert(row: CheckpointRow): Promise<void> {
    await this.run("insert", INSERT_SQL, [row.id, row.seq.toString(), row.headHash, row.at.toISOString(), row.keyId, row.message, row.signature, row.reason]);
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await (await c).end().catch(() => undefined);
  }
}

// On globalThis so Next's dev reloads keep one connection per database.
const g = globalThis as unknown as { __tollgateCheckpointConnections?: Map<string, CheckpointConnection> };

export function checkpointConnection(url: string): CheckpointConnection {
  g.__tollgateCheckpointConnections ??= new Map();
  let conn = g.__tollgateCheckpointConnections.get(url);
  if (!conn) g.__tollgateCheckpointConnections.set(url, (conn = new CheckpointConnection(url)));
  return conn;
}

/** Closes every checkpoint connection of this process (benchmarks and scripts that want a clean exit). */
export async function closeCheckpointConnections(): Promise<void> {
  const all = [...(g.__tollgateCheckpointConnections?.values() ?? [])];
  g.__tollgateCheckpointConnections?.clear();
  await Promise.all(all.map((c) => c.close()));
}
