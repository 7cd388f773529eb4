import { stringify } from "csv-stringify/sync";
import type { ReportRow } from "./types";

/**
 * Row batches → bytes. Each batch is encoded on its own (csv-stringify per
 * batch of FETCH_SIZE rows), so memory is bounded by one batch whatever the
 * report's size, and the encoder never sees more than the cursor handed out.
 */
export interface RowCounter {
  rows: number;
}

type Column = { key: string; header: string };

/**
 * Spreadsheet formula injection: a cell starting with = + - @ (or a tab/CR) is run
 * as a formula by Excel and LibreOffice. Names come from IdPs and SCIM clients, so
 * such text cells get a leading apostrophe (OWASP's advice); numbers and our own
 * timestamps never start with these characters.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const defuse = (v: string) => (FORMULA_START.test(v) ? `'${v}` : v);

/** One cell as CSV text input: booleans spelt out, formula-looking text defused, null empty. */
function cell(v: ReportRow[string] | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return String(v);
  return defuse(v);
}

// RFC 4180 line ends. Rows are handed to csv-stringify as arrays already cast:
// measured on this machine, its per-field `cast` hooks and object-to-column
// lookups made it about 3x slower than plain arrays.
const CSV_OPTIONS = { record_delimiter: "\r\n" as const };

export async function* csvChunks(columns: Column[], batches: AsyncIterable<ReportRow[]>, counter: RowCounter): AsyncGenerator<Uint8Array> {
  yield Buffer.from(stringify([columns.map((c) => c.header)], CSV_OPTIONS));
  const keys = columns.map((c) => c.key);
  for await (const batch of batches) {
    counter.rows += batch.length;
    yield Buffer.from(stringify(batch.map((row) => keys.map((k) => cell(row[k]))), CSV_OPTIONS));
  }
}

/**
 * A JSON document written incrementally: the export's metadata first, then
 * "rows" one object per line, then the final row count (which is only known at
 * the end). Each row carries exactly the report's columns, in order.
 */
export async function* jsonChunks(
  meta: Record<string, unknown>,
  columns: Column[],
  batches: AsyncIterable<ReportRow[]>,
  counter: RowCounter,
): AsyncGenerator<Uint8Array> {
  const head = JSON.stringify({ ...meta, columns: columns.map((c) => ({ key: c.key, header: c.header })) });
  yield Buffer.from(`${head.slice(0, -1)},"rows":[\n`);
  let first = true;
  for await (const batch of batches) {
    const lines: string[] = [];
    for (const row of batch) {
      const ordered: ReportRow = {};
      for (const c of columns) ordered[c.key] = row[c.key] ?? null;
      lines.push((first ? "" : ",\n") + JSON.stringify(ordered));
      first = false;
    }
    counter.rows += batch.length;
    yield Buffer.from(lines.join(""));
  }
  yield Buffer.from(`\n],"rowCount":${counter.rows}}\n`);
}
