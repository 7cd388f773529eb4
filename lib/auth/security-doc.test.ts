import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { PERMISSIONS, ROLES } from "./actor";

// docs/SECURITY.md promises its permission matrix mirrors lib/auth/actor.ts.
test("the permission matrix in docs/SECURITY.md matches PERMISSIONS exactly", () => {
  const doc = readFileSync(path.join(process.cwd(), "docs/SECURITY.md"), "utf8");
  const documented: Record<string, string[]> = {};
  for (const m of doc.matchAll(/^\| `([^`]+)` \|(.*)\|\s*$/gm)) {
    const cells = m[2].split("|").map((c) => c.trim());
    if (cells.length !== ROLES.length) continue;
    documented[m[1]] = ROLES.filter((_, i) => cells[i] === "✓");
  }
  const actual = Object.fromEntries(Object.entries(PERMISSIONS).map(([p, roles]) => [p, ROLES.filter((r) => (roles as readonly string[]).includes(r))]));
  expect(documented, "update the table in docs/SECURITY.md to match lib/auth/actor.ts").toEqual(actual);
});
