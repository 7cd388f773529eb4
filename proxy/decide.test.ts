import { describe, expect, it } from "vitest";
import { bearerToken, presentedKey } from "./decide";
import { prng } from "./test-support";

// bearerToken replaced a regular expression on the request path; it must accept
// exactly what that expression accepted, with the same token.
const GRAMMAR = /^Bearer[ ]+([\x21-\x7e]{1,512})[ ]*$/i;
const byRegex = (s: string): string | null => GRAMMAR.exec(s)?.[1] ?? null;

describe("bearerToken", () => {
  it.each([
    ["Bearer abc", "abc"],
    ["bearer abc", "abc"],
    ["BEARER   abc  ", "abc"],
    ["bEaReR x", "x"],
    ["Bearer " + "k".repeat(512), "k".repeat(512)],
    ["Bearer " + "k".repeat(513), null],
    ["Bearer", null],
    ["Bearer ", null],
    ["Bearerabc", null],
    ["Bearer\tabc", null],
    ["Bearer abc def", null],
    ["Bearer abc\t", null],
    ["Bearer ab\u00e9", null],
    ["Basic abc", null],
    ["Bearer:abc", null],
    [" Bearer abc", null],
    ["B\u00e5arer abc", null],
  ])("%j -> %j", (header, want) => {
    expect(bearerToken(header)).toBe(want);
    expect(byRegex(header)).toBe(want);
  });

  it("agrees with the regular expression on 20,000 generated headers", () => {
    const rnd = prng(17);
    const alphabet = ["B", "b", "e", "E", "a", "A", "r", "R", " ", " ", "\t", "x", "~", "!", "\u007f", "\u00e9", "k", ",", "\u0000", "0"];
    const prefixes = ["Bearer ", "bearer  ", "BEARER", "Bearer", "Bearex ", "", "Bearer \u0000"];
    for (let i = 0; i < 20_000; i++) {
      let s = prefixes[Math.floor(rnd() * prefixes.length)];
      const n = Math.floor(rnd() * (rnd() < 0.05 ? 600 : 12));
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(bearerToken(s), JSON.stringify(s)).toBe(byRegex(s));
    }
  });

  it("is what presentedKey reads from Authorization, which wins over X-API-Key", () => {
    expect(presentedKey({ authorization: "Bearer k1", "x-api-key": "k2" })).toBe("k1");
    expect(presentedKey({ authorization: "Basic k1", "x-api-key": "k2" })).toBeNull();
    expect(presentedKey({ "x-api-key": "k2" })).toBe("k2");
  });
});
