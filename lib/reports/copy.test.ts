import { expect, test } from "vitest";
import { CrlfRecords, inlineParams } from "./copy";

// Postgres's CSV (LF records, quoted fields may hold LF, CR and doubled quotes) → CRLF records.
const pgOutput = 'H1,H2\nplain,"multi\nline"\n"say ""hi""\n",x\n"cr\rhere",\n';
const expected = 'H1,H2\r\nplain,"multi\nline"\r\n"say ""hi""\n",x\r\n"cr\rhere",\r\n';

test("rewrites only the LFs that end records, and counts them", () => {
  const t = new CrlfRecords();
  expect(t.transform(Buffer.from(pgOutput)).toString()).toBe(expected);
  expect(t.records).toBe(4);
});

test("quote state carries across chunk boundaries, wherever the chunks split", () => {
  const bytes = Buffer.from(pgOutput);
  for (let a = 0; a <= bytes.length; a++) {
    for (let b = a; b <= bytes.length; b++) {
      const t = new CrlfRecords();
      const out = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)].map((c) => t.transform(c));
      expect(Buffer.concat(out).toString(), `split at ${a}/${b}`).toBe(expected);
      expect(t.records).toBe(4);
    }
  }
});

test("COPY cannot bind parameters: values are inlined as escaped literals", () => {
  const q = { text: "SELECT 1 WHERE a = $1::timestamptz AND (b = $2 OR $3::text IS NULL) AND c = $10", values: [new Date("2026-12-01T00:00:00Z"), "o'neil\\x", null, 4, 5, 6, 7, 8, 9, "ten"] };
  expect(inlineParams(q)).toBe("SELECT 1 WHERE a = '2026-12-01T00:00:00.000Z'::timestamptz AND (b =  E'o''neil\\\\x' OR NULL::text IS NULL) AND c = 'ten'");
  expect(() => inlineParams({ text: "SELECT $2", values: [1] })).toThrow(/\$2/);
});
