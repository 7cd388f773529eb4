import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import type { RowCounter } from "./encode";
import type { ReportConnection } from "./cursor";
import type { SqlQuery } from "./types";

/**
 * CSV for SQL reports straight from Postgres: `COPY (<report query>) TO STDOUT
 * (FORMAT csv)`. Postgres encodes the rows in C and Node only forwards bytes, so
 * a million-row export creates no row objects at all — measured (bench/export.ts)
 * this is what keeps the serving process's memory flat: with a cursor, the
 * garbage from parsing rows grew V8's heap by about 150 MB before each major GC.
 *
 * The output is byte-identical to the JS encoder (encode.ts; reports.test.ts
 * checks both on awkward values): the same defusing of formula-looking text,
 * booleans as true/false, empty text as an empty unquoted field, CRLF records.
 */

type Column = { key: string; header: string };

/** Type OIDs passed through as they are; booleans are spelt out; everything else is text and defused. */
const NUMERIC_TYPES = new Set([20, 21, 23, 26, 700, 701, 1700]);
const BOOL = 16;

/** encode.ts's FORMULA_START (= + - @ tab CR) as a SQL test on the first character. */
const defused = (v: string) => `CASE WHEN left(${v}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || ${v} ELSE ${v} END`;

function cellSql(key: string, typeId: number | undefined): string {
  const col = `r.${pg.escapeIdentifier(key)}`;
  if (typeId !== undefined && NUMERIC_TYPES.has(typeId)) return col;
  if (typeId === BOOL) return `CASE WHEN ${col} THEN 'true' WHEN NOT ${col} THEN 'false' END`;
  // nullif: Postgres quotes an empty string ("") to tell it from NULL; the JS encoder writes both as an empty field.
  return defused(`nullif(${col}::text, '')`);
}

/**
 * COPY takes no bind parameters, so the report's `$n` placeholders become
 * literals here, escaped by pg's own escapeLiteral (values are already
 * validated filters: instants, names, ids).
 */
export function inlineParams(q: SqlQuery): string {
  return q.text.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= q.values.length) throw new Error(`query has $${n} but ${q.values.length} values`);
    const v = q.values[i];
    if (v === null || v === undefined) return "NULL";
    return pg.escapeLiteral(v instanceof Date ? v.toISOString() : String(v));
  });
}

/** The COPY statement: the report's query as a subquery, its columns in order under their headers. */
export async function copyStatement(conn: ReportConnection, columns: Column[], q: SqlQuery): Promise<string> {
  const inner = inlineParams(q);
  // The columns' types decide their encoding; LIMIT 0 plans the query without running it.
  const probe = await conn.query({ text: `SELECT * FROM (${inner}) r LIMIT 0`, rowMode: "array" });
  const types = new Map(probe.fields.map((f) => [f.name, f.dataTypeID]));
  for (const c of columns) if (!types.has(c.key)) throw new Error(`report query has no column "${c.key}"`);
  const select = columns.map((c) => `${cellSql(c.key, types.get(c.key))} AS ${pg.escapeIdentifier(c.header)}`).join(", ");
  // A subquery's ORDER BY is kept by the outer plain projection (no join, no aggregate above it).
  return `COPY (SELECT ${select} FROM (${inner}) r) TO STDOUT WITH (FORMAT csv, HEADER true)`;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CRLF = Buffer.from("\r\n");

/**
 * Postgres ends CSV records with LF; RFC 4180 (and the JS encoder) with CRLF.
 * Every LF outside quotes ends a record (Postgres quotes any value holding a CR
 * or LF), so this rewrites those and counts them; quote state carries across
 * chunks. Scans with indexOf rather than byte by byte.
 */
export class CrlfRecords {
  private inQuotes = false;
  /** Record terminators seen, the header's included. */
  records = 0;

  transform(chunk: Buffer): Buffer {
    const parts: Buffer[] = [];
    let from = 0;
    let i = 0;
    let nextQuote = chunk.indexOf(QUOTE, 0);
    while (i < chunk.length) {
      if (this.inQuotes) {
        if (nextQuote === -1) break;
        this.inQuotes = false;
        i = nextQuote + 1;
        nextQuote = chunk.indexOf(QUOTE, i);
        continue;
      }
      const lf = chunk.indexOf(LF, i);
      if (nextQuote !== -1 && (lf === -1 || nextQuote < lf)) {
        this.inQuotes = true;
        i = nextQuote + 1;
        nextQuote = chunk.indexOf(QUOTE, i);
        continue;
      }
      if (lf === -1) break;
      parts.push(chunk.subarray(from, lf), CRLF);
      this.records++;
      from = i = lf + 1;
    }
    if (from === 0) return chunk;
    if (from < chunk.length) parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }
}

/**
 * Streams one report as CSV through COPY on its own connection, in the same
 * READ ONLY REPEATABLE READ snapshot the cursor path uses. COPY cannot be
 * interrupted on a connection that is to be reused, so a stream stopped early
 * (download aborted, error) destroys the connection — the server then ends the
 * COPY — and the pool opens a fresh one next time.
 */
export async function* copyCsvChunks(pool: pg.Pool, columns: Column[], q: SqlQuery, counter: RowCounter): AsyncGenerator<Uint8Array> {
  const conn = await pool.connect();
  let clean = false;
  try {
    await conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const stream = conn.query(copyTo(await copyStatement(conn, columns, q)));
    const records = new CrlfRecords();
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const out = records.transform(chunk);
      counter.rows = Math.max(0, records.records - 1);
      yield out;
    }
    await conn.query("COMMIT");
    clean = true;
  } finally {
    conn.release(clean ? undefined : true);
  }
}
