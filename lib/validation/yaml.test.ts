import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseChecked, parseWithoutAnchors, parseYamlSafely } from "./yaml";

const refusal = (text: string, limits = {}) => {
  try {
    parseYamlSafely(text, limits);
  } catch (e) {
    return e as { code: string; message: string; field?: string };
  }
  throw new Error("expected a refusal");
};

// Nine levels of nine aliases: 9^9 (387 million) leaves from a few hundred bytes.
function billionLaughs(levels = 9): string {
  let text = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 1; i <= levels; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]\n`;
  return text;
}

describe("parseYamlSafely", () => {
  it("parses ordinary YAML, aliases included, into plain values", () => {
    const v = parseYamlSafely("base: &b {type: string}\nname: *b\nlist: [1, two]\n") as Record<string, unknown>;
    expect(v).toEqual({ base: { type: "string" }, name: { type: "string" }, list: [1, "two"] });
  });

  it("refuses a node that refers to itself through an alias, naming the line", () => {
    const e = refusal('paths:\n  /x: &p\n    get: {}\n    x-self: *p\n');
    expect(e).toMatchObject({ code: "bad_request", field: "document" });
    expect(e.message).toMatch(/alias \*p at line 4, column 13 .*cycle/);
  });

  it("refuses an indirect cycle (a contains b, b refers back to a)", () => {
    const e = refusal("a: &a\n  b: &b\n    c: [*a]\n");
    expect(e.message).toContain("cycle");
  });

  it("refuses an alias bomb by its expanded size, without expanding it", () => {
    const start = performance.now();
    const e = refusal(billionLaughs(), { field: "config" });
    expect(e).toMatchObject({ code: "bad_request", field: "config" });
    expect(e.message).toMatch(/expands to more than 2000000 nodes/);
    // Memoised counting: the refusal costs microseconds, not the 387M-node walk (wide margin: it takes ~1 ms).
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it("counts expansion exactly: a small bomb under the cap is accepted, the same under a lower cap is not", () => {
    // 3 levels: a3 holds 9 x a2, each 9 x a1, each 9 x a0 (10 nodes) → a few thousand nodes in all.
    expect(() => parseYamlSafely(billionLaughs(3))).not.toThrow();
    expect(refusal(billionLaughs(3), { maxNodes: 1000 }).message).toContain("more than 1000 nodes");
  });

  it("caps the number of aliases, the depth, and refuses an alias to no anchor", () => {
    const many = "a: &a 1\nl: [" + Array(20).fill("*a").join(",") + "]\n";
    expect(refusal(many, { maxAliases: 10 }).message).toContain("more than 10 aliases");
    expect(refusal("a: " + "[".repeat(50) + "]".repeat(50), { maxDepth: 20 }).message).toContain("deeper than 20 levels");
    expect(refusal("a: *nope\n").message).toMatch(/alias \*nope at line 1, column 4 refers to no anchor/);
  });

  it("reports syntax errors with line and column", () => {
    expect(refusal("a: 1\na: 2\n").message).toMatch(/invalid YAML at line 2, column 1/);
  });
});

describe("parseYamlSafely's fast path (documents without anchors, js-yaml)", () => {
  const outcome = (parse: () => unknown) => {
    try {
      return { value: parse() };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  const fixtures = readdirSync("test/fixtures", { recursive: true, encoding: "utf8" }).filter((f) => /\.(ya?ml|json)$/.test(f));

  it.each(fixtures)("gives what the checked parser gives: %s", (f) => {
    const text = readFileSync(path.join("test/fixtures", f), "utf8");
    const checked = outcome(() => parseChecked(text));
    expect(outcome(() => parseYamlSafely(text))).toEqual(checked);
    // The fast path itself took every valid fixture that has no "&".
    if ("value" in checked && checked.value !== null && !text.includes("&")) expect(parseWithoutAnchors(text, {})).toEqual(checked.value);
  });

  it("gives what the checked parser gives for YAML's scalar forms, keys, and refusals", () => {
    const docs = [
      "a: [1_000, 0755, 0o17, 0x1F, +12, .5, 1e3, -.inf, .NaN, True, NULL, ~, '1', 1.0, 12:30, 2024-01-01, yes, on, -0]",
      "__proto__: {polluted: 1}\nx: 1",
      "a: 1\n---\nb: 2",
      "",
      "# only a comment",
      "{a: 1, a: 2}",
      "k: !foo bar",
      "k: !!str 1",
      "k: |\n  x\n  y\n",
      'k: "\\u00e9\\x41"',
      "a:\n  - b\n  -\n",
      "a: &x 1\nb: *x",
    ];
    for (const d of docs) expect(outcome(() => parseYamlSafely(d)), d).toEqual(outcome(() => parseChecked(d)));
  });

  it("still applies the node limit to a document without anchors", () => {
    const big = `items: [${Array(50).fill("1").join(", ")}]`;
    expect(refusal(big, { maxNodes: 20 }).message).toMatch(/more than 20 nodes/);
  });
});
