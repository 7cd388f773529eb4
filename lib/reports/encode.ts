import { stringify } from "csv-stringify/sync";
import type { ReportRow } from "./types";

/**
 * Row batches → bytes, for JSON exports and for the CSV of computed reports
 * (SQL reports' CSV comes from Postgres through COPY, copy.ts). Each batch is
 * encoded on its own, so memory is bounded by one batch whatever the report's
 * size.
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

// RFC 4180 with CRLF records, as COPY's output after copy.ts's CrlfRecords.
// quoted_match: csv-stringify leaves a lone LF or CR bare when records end in
// CRLF, and many readers split records on a bare LF, so a display name with a
// newline could forge a row; Postgres quotes them too.
export function csvRecords(records: string[][]): string {
  return stringify(records, { record_delimiter: "\r\n", quoted_match: /[\r\n]/ });
}

export async function* csvChunks(columns: Column[], batches: AsyncIterable<ReportRow[]>, counter: RowCounter): AsyncGenerator<Uint8Array> {
  yield Buffer.from(csvRecords([columns.map((c) => c.header)]));
  const keys = columns.map((c) => c.key);
  for await (const batch of batches) {
    counter.rows += batch.length;
    yield Buffer.from(csvRecords(batch.map((row) => keys.map((k) => cell(row[k])))));
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
  /** Members written after rowCount, at the very end (the audit evidence: it must follow every data field). */
  tail: Record<string, unknown> = {},
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
  const rest = Object.keys(tail).length ? `,${JSON.stringify(tail).slice(1, -1)}` : "";
  yield Buffer.from(`\n],"rowCount":${counter.rows}${rest}}\n`);
}
