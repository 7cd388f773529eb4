import { expect, test } from "vitest";
import { csvChunks, csvRecords } from "./encode";

// The CSV of computed reports (csv-stringify); copy.ts's COPY output must match it byte for byte (reports.test.ts).
const awkward = [
  ["plain", "with,comma", 'with "quotes"', "crlf\r\n", '"', "", " spaced ", "ünïcödé ✓"],
  ["a", "b", "c", "d", "e", "f", "g", "h"],
];

test("encodes RFC 4180 with CRLF records", () => {
  expect(csvRecords(awkward)).toBe('plain,"with,comma","with ""quotes""","crlf\r\n","""",, spaced ,ünïcödé ✓\r\na,b,c,d,e,f,g,h\r\n');
});

// By default csv-stringify leaves a lone LF or CR unquoted when records end in CRLF; many
// readers split records on a bare LF, so a display name with a newline could forge a row.
test("quotes a lone LF or CR, so a name with a newline cannot start a new record", () => {
  expect(csvRecords([["Eve\nforged,row", "cr\rhere"]])).toBe('"Eve\nforged,row","cr\rhere"\r\n');
});

test("defuses formula-looking cells and spells out nulls and booleans", async () => {
  async function* batches() {
    yield [{ a: "=HYPERLINK(\"x\")", b: null, c: true, d: 42, e: "-1+1" }];
  }
  const counter = { rows: 0 };
  const chunks: string[] = [];
  const cols = ["a", "b", "c", "d", "e"].map((k) => ({ key: k, header: k.toUpperCase() }));
  for await (const c of csvChunks(cols, batches(), counter)) chunks.push(Buffer.from(c).toString());
  expect(chunks.join("")).toBe(`A,B,C,D,E\r\n"'=HYPERLINK(""x"")",,true,42,'-1+1\r\n`);
  expect(counter.rows).toBe(1);
});
