import { describe, expect, it } from "vitest";
import { z } from "zod";
import { flatSearchParams, optionalParam, searchParamsParser, searchTextParam, toSearchString } from "./url-state";

const parse = searchParamsParser(
  z.object({
    page: z.coerce.number().int().min(1).max(1000).catch(1),
    sort: z.enum(["risk", "opened"]).catch("risk"),
    severity: optionalParam(z.enum(["high", "low"])),
  }),
);

describe("URL state (lib/url-state.ts)", () => {
  it("reads the same view from a server page's searchParams and from a URLSearchParams", () => {
    expect(parse({ page: "3", sort: "opened", severity: "high" })).toEqual({ page: 3, sort: "opened", severity: "high" });
    expect(parse(new URLSearchParams("page=3&sort=opened&severity=high"))).toEqual({ page: 3, sort: "opened", severity: "high" });
  });

  it("falls back on junk instead of throwing: a mangled link opens a sane page", () => {
    expect(parse({ page: "-3", sort: "drop", severity: "__proto__" })).toEqual({ page: 1, sort: "risk", severity: undefined });
    expect(parse({ page: "1e9", sort: ["opened", "risk"] })).toEqual({ page: 1, sort: "opened", severity: undefined });
  });

  it("names the params it ignored, so a page can say why the view is not what the link asked for", () => {
    expect(parse.ignored({ page: "-3", sort: "opened", severity: "__proto__", other: "x" })).toEqual(["page", "severity"]);
    expect(parse.ignored({ page: "1", sort: "risk" })).toEqual([]);
  });

  it("treats an empty value as absent and keeps the first of repeated keys", () => {
    expect(flatSearchParams(new URLSearchParams("a=&b=1&b=2"))).toEqual({ b: "1" });
  });

  it("cleans free text: control characters (a NUL was a 500 on /audit) and lone surrogates go, nothing left means absent", () => {
    const text = searchParamsParser(z.object({ action: searchTextParam(64) }));
    expect(text(new URLSearchParams("action=%00x"))).toEqual({ action: "x" });
    expect(text(new URLSearchParams("action=%00"))).toEqual({ action: undefined });
    expect(text.ignored(new URLSearchParams("action=%00"))).toEqual(["action"]);
    expect(text({ action: " decision.record\ud800 " })).toEqual({ action: "decision.record" });
  });

  it("writes the canonical query string without defaults", () => {
    expect(toSearchString({ page: 1, sort: "risk", severity: "high", q: "" }, { page: 1, sort: "risk" })).toBe("?severity=high");
    expect(toSearchString({ page: 1 }, { page: 1 })).toBe("");
  });
});
