/**
 * A small RFC 4180 reader for tests: quoted fields, doubled quotes, CRLF or LF
 * records. Independent of csv-stringify, so a test of our CSV output does not
 * read it back with the library that wrote it.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Header row + records → objects keyed by header. The audit evidence trailer ("# tollgate-…" lines, lib/reports/evidence.ts) is not data. */
export function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text).filter((r) => !(r.length === 1 && r[0].startsWith("# tollgate-")));
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}
