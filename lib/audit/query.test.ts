import { describe, expect, it } from "vitest";
import { parseAuditFilter } from "./query";

// The Audit page's URL follows the shared policy (lib/url-state.ts): junk falls
// back and is named, where it used to throw (a "?from=2026-13-01" link was an error).
describe("audit log filters from the URL", () => {
  it("reads a shared link", () => {
    expect(parseAuditFilter({ action: "auth.signin", actor: " olivia ", from: "2026-01-01", to: "2026-01-31", page: "2", perPage: "100" })).toEqual({
      action: "auth.signin",
      actor: "olivia",
      from: "2026-01-01",
      to: "2026-01-31",
      page: 2,
      perPage: 100,
    });
  });

  it("ignores what it cannot use instead of failing, and names it", () => {
    const bad = { from: "2026-13-01", to: "2026-02-31", page: "-1", perPage: "5000", action: "x".repeat(65) };
    expect(parseAuditFilter(bad)).toEqual({ action: undefined, actor: undefined, from: undefined, to: undefined, page: 1, perPage: 50 });
    expect(parseAuditFilter.ignored(bad).sort()).toEqual(["action", "from", "page", "perPage", "to"]);
    expect(parseAuditFilter.ignored({ page: "1", actor: "" })).toEqual([]);
  });
});
