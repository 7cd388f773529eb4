import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { CsvError, parse } from "csv-parse";
import { AppError, badRequest } from "@/lib/errors";
import type { DesiredState } from "./desired";
import { meter, type ByteBudget } from "./metered";
import { AccessRecordReader } from "./ndjson";
import type { GrantSink, UndefinedRef } from "./stage";

// Tollgate's CSV format (docs/IMPORT.md, "CSV"): one file per kind, named by the
// kind (principals.csv, …; a prefix such as acme-grants.csv is allowed), a
// header row naming the columns. Each row becomes the same record as an NDJSON
// line and goes through the same reader (ndjson.ts), so both formats mean the
// same thing. Files are streamed row by row; errors name file, line and column
// and never quote a cell (a cell may be a key).

/** Columns per kind, in the documented order; list columns hold `;`-separated values. */
export const CSV_COLUMNS = {
  principal: ["id", "name", "type", "tags"],
  api: ["id", "name", "baseUrl", "description"],
  scope: ["api", "name", "level", "description"],
  endpoint: ["api", "method", "path", "scopes", "public", "summary"],
  credential: ["principal", "key", "sha256", "prefix", "expiresAt"],
  grant: ["principal", "api", "scope", "expiresAt"],
} as const;
type CsvKind = keyof typeof CSV_COLUMNS;
const REQUIRED: Record<CsvKind, string[]> = {
  principal: ["id", "name"],
  api: ["id", "name", "baseUrl"],
  scope: ["api", "name", "level"],
  endpoint: ["api", "method", "path"],
  credential: ["principal"],
  grant: ["principal", "api", "scope"],
};
const LISTS = new Set(["tags", "scopes"]);
const FILE_KIND = /(?:^|[-_.])(principals|apis|scopes|endpoints|credentials|grants)\.csv$/i;

export interface CsvFile {
  filename: string;
  file: Readable;
}

/** The kind a file holds, from its name; null when the name does not say. */
export function csvKindOf(filename: string): CsvKind | null {
  const m = FILE_KIND.exec(filename);
  return m ? (m[1].toLowerCase().slice(0, -1) as CsvKind) : null;
}

/** A cell as the record's field: empty is absent; lists split on `;`; `public` is true/false. */
function cell(column: string, value: string): unknown {
  const v = value.trim();
  if (v === "") return LISTS.has(column) ? [] : undefined;
  if (LISTS.has(column)) return v.split(";").map((x) => x.trim()).filter((x) => x !== "");
  if (column === "public") return /^true$/i.test(v) ? true : /^false$/i.test(v) ? false : v; // anything else: zod names it
  return column === "key" ? value : v; // a key is taken exactly as written
}

const count = (s: string, what: string) => s.split(what).length - 1;

function csvError(filename: string, e: CsvError): AppError {
  // The parser's own message can quote a cell: only its position and kind are used.
  const at = `${filename}:${(e as unknown as { lines?: number }).lines ?? "?"}`;
  const field = (e as unknown as { column?: number | string }).column;
  const col = typeof field === "number" && e.code !== "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH" ? `:${field + 1}` : "";
  const what: Record<string, string> = {
    CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: "the row does not have as many cells as the header has columns",
    CSV_INVALID_CLOSING_QUOTE: "a quoted cell goes on after its closing quote (double a quote inside quotes: \"\")",
    CSV_QUOTE_NOT_CLOSED: "a quoted cell is never closed",
    CSV_INVALID_OPENING_QUOTE: "a quote inside an unquoted cell (quote the whole cell)",
    CSV_MAX_RECORD_SIZE: "a row is too long",
  };
  return badRequest(`${at}${col}: ${what[e.code] ?? `not valid CSV (${e.code})`}; nothing was imported`, "file");
}

async function readOne(f: CsvFile, reader: AccessRecordReader, budget: ByteBudget): Promise<string> {
  const kind = csvKindOf(f.filename);
  if (!kind) {
    f.file.destroy();
    throw badRequest(`${f.filename}: a CSV file's name says its kind: principals.csv, apis.csv, scopes.csv, endpoints.csv, credentials.csv or grants.csv (a prefix like acme-grants.csv is allowed)`, "file");
  }
  const m = meter(f.file, f.filename, budget);
  const rows = m.stream.pipe(parse({ bom: true, info: true, skip_empty_lines: true, record_delimiter: ["\r\n", "\n"], max_record_size: 1 << 20 }));
  let header: string[] | null = null;
  let overcount = 0;
  try {
    for await (const { record, info } of rows as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      // info.lines is the line the row ends on, but csv-parse 6.2 counts a CRLF inside
      // a quoted cell as two lines (and so every line after it): undo that, then go
      // back to the line the row starts on.
      const crlfInside = record.reduce((n, c) => n + count(c, "\r\n"), 0);
      const line = info.lines - overcount - crlfInside - record.reduce((n, c) => n + count(c, "\n"), 0);
      overcount += crlfInside;
      if (!header) {
        header = record.map((h) => h.trim());
        checkHeader(f.filename, kind, header);
        continue;
      }
      const raw: Record<string, unknown> = { kind };
      header.forEach((column, i) => {
        const v = cell(column, record[i]);
        if (v !== undefined) raw[column] = v;
      });
      const cols = header;
      reader.record(raw, { file: f.filename, line, column: (field) => (cols.includes(field) ? String(cols.indexOf(field) + 1) : null) });
      if (reader.grants?.full) await reader.grants.flush();
    }
  } catch (e) {
    m.stop();
    if (e instanceof CsvError) throw csvError(f.filename, e);
    throw e instanceof AppError ? e : badRequest(`${f.filename}: could not be read`, "file");
  }
  await m.finished();
  if (!header) throw badRequest(`${f.filename}: the file is empty`, "file");
  return m.sha256();
}

function checkHeader(filename: string, kind: CsvKind, header: string[]) {
  const known: readonly string[] = CSV_COLUMNS[kind];
  header.forEach((h, i) => {
    if (!known.includes(h)) throw badRequest(`${filename}:1:${i + 1}: unknown column "${h.slice(0, 40)}" (${kind} columns: ${known.join(", ")}); nothing was imported`, "file");
    if (header.indexOf(h) !== i) throw badRequest(`${filename}:1:${i + 1}: column ${h} is given twice; nothing was imported`, "file");
  });
  const missing = REQUIRED[kind].filter((c) => !header.includes(c));
  if (missing.length) throw badRequest(`${filename}:1: missing column(s) ${missing.join(", ")} (${kind} columns: ${known.join(", ")}); nothing was imported`, "file");
}

/**
 * Several CSV files -> one desired state. Files are read one after the other,
 * row by row; references across files are checked after the last. The import's
 * SHA-256 covers every file's name and content (in name order), so renaming or
 * editing any file is a change of source.
 */
export async function readCsvFiles(files: CsvFile[], maxBytes: number, grants: GrantSink | null = null): Promise<{ desired: DesiredState; undefinedRef: UndefinedRef | null; sha256: string }> {
  const names = files.map((f) => f.filename);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  const refuse = (message: string) => {
    for (const f of files) f.file.destroy();
    return badRequest(message, "file");
  };
  if (files.length === 0) throw refuse("CSV import needs at least one file (principals.csv, apis.csv, …)");
  if (twice) throw refuse(`${twice} is given twice`);
  const reader = new AccessRecordReader("these files", grants);
  const budget: ByteBudget = { used: 0, max: maxBytes };
  const digests: string[] = [];
  for (const [i, f] of files.entries()) {
    try {
      digests.push(`${f.filename}\0${await readOne(f, reader, budget)}`);
    } catch (e) {
      for (const rest of files.slice(i + 1)) rest.file.destroy();
      throw e;
    }
  }
  const sha256 = createHash("sha256").update(digests.sort().join("\n")).digest("hex");
  return { desired: reader.finish(), undefinedRef: grants ? reader.firstUndefinedRef() : null, sha256 };
}
