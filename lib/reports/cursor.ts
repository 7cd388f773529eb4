import pg from "pg";
import { env, pgConfigFromUrl } from "@/lib/config/env";
import type { ReportRow, SqlQuery } from "./types";

/**
 * Exports read Postgres through a server-side cursor on a plain pg connection
 * rather than Prisma: a cursor hands out FETCH-sized batches, so a million-row
 * report never exists in memory, and the next batch is only fetched when the
 * HTTP client has taken the previous one (the stream pulls). The cursor runs in
 * a READ ONLY REPEATABLE READ transaction, so every row of one export comes
 * from the same snapshot — an inventory that is consistent with itself.
 */
export type ReportConnection = pg.PoolClient;

const globalForPool = globalThis as unknown as { __tollgateReportPool?: pg.Pool };

/** A small dedicated pool: each running export holds one connection for its whole stream. */
export function reportPool(): pg.Pool {
  if (!globalForPool.__tollgateReportPool) {
    const pool = new pg.Pool({ ...pgConfigFromUrl(env().DATABASE_URL), max: 4, idleTimeoutMillis: 30_000 });
    // An idle connection dropped by the server (restart, admin) must not crash the app.
    pool.on("error", (e) => console.error("[reports] idle database connection failed", e.message));
    globalForPool.__tollgateReportPool = pool;
  }
  return globalForPool.__tollgateReportPool;
}

export const FETCH_SIZE = 5_000;

let cursorSeq = 0;

/**
 * Yields the rows of a query in batches of FETCH_SIZE from a server-side cursor.
 * Must run inside withSnapshot(); stopping early (return/throw) closes the cursor.
 */
export async function* cursorBatches(conn: ReportConnection, q: SqlQuery): AsyncGenerator<ReportRow[]> {
  const name = `report_cursor_${++cursorSeq}`;
  await conn.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${q.text}`, q.values);
  const fetch = (): Promise<pg.QueryResult<ReportRow>> => {
    const batch = conn.query<ReportRow>(`FETCH ${FETCH_SIZE} FROM ${name}`);
    batch.catch(() => undefined); // awaited below; a failure while read ahead is not "unhandled"
    return batch;
  };
  // One batch of read-ahead: the next FETCH is sent before this batch is handed
  // on, so Postgres produces it while we encode and send this one (the two
  // overlap on separate cores). At most two batches are in memory.
  let next: Promise<pg.QueryResult<ReportRow>> | null = fetch();
  try {
    while (next) {
      const { rows }: { rows: ReportRow[] } = await next;
      next = rows.length < FETCH_SIZE ? null : fetch();
      if (rows.length > 0) yield rows;
    }
  } finally {
    // Stopped early: let the read-ahead settle before closing the cursor under it.
    await next?.catch(() => undefined);
    await conn.query(`CLOSE ${name}`).catch(() => undefined);
  }
}

/**
 * Checks out a connection, opens the read-only snapshot and hands it to `fn`'s
 * generator; the transaction ends and the connection goes back to the pool
 * however the generator stops (completed, failed, or the download was aborted).
 */
export async function* withSnapshot<T>(pool: pg.Pool, fn: (conn: ReportConnection) => AsyncIterable<T>): AsyncGenerator<T> {
  const conn = await pool.connect();
  let broken = false;
  try {
    await conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    // A cursor's plan is optimised for its first rows by default; exports read them all.
    await conn.query("SET LOCAL cursor_tuple_fraction = 1.0");
    yield* fn(conn);
    await conn.query("COMMIT");
  } catch (e) {
    broken = true;
    throw e;
  } finally {
    // Aborted or failed: roll back (harmless after COMMIT). A connection whose
    // rollback fails is discarded rather than returned to the pool.
    const ok = await conn.query("ROLLBACK").then(() => true, () => false);
    conn.release(broken && !ok ? true : undefined);
  }
}

/** ISO-8601 UTC text for a timestamptz column, done in SQL so rows arrive as plain strings. */
export const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Closes the shared pool (tests, scripts); the next export opens a new one. */
export async function closeReportPool(): Promise<void> {
  const pool = globalForPool.__tollgateReportPool;
  globalForPool.__tollgateReportPool = undefined;
  await pool?.end();
}
