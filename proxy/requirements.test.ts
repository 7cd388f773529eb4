import { createHash, randomUUID } from "node:crypto";
import { describe, expect, test } from "vitest";
import { decide } from "./decide";
import { canonicalRequirements } from "./requirements";
import { routeValue, type Op } from "./schemas";
import { EnforcementState } from "./state";

// Requirements as alternatives (OR) of scope sets (AND): the wire schema, the
// canonical form, state files from before sets, and the decision itself.

const u = () => randomUUID();
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("canonical form", () => {
  test("sorts within and across sets and drops duplicates", () => {
    expect(canonicalRequirements([["b", "a", "b"], ["c"], ["a", "b"], ["a"]])).toEqual([["a"], ["a", "b"], ["c"]]);
    expect(canonicalRequirements([])).toEqual([]);
    expect(canonicalRequirements([[], ["a"]])).toEqual([["a"]]); // never "nothing required"
  });
});

describe("route wire schema", () => {
  const base = { id: u(), apiId: u(), method: "GET", pathTemplate: "/x" };
  test("requirements are canonicalised; the older scopeIds become single-scope sets", () => {
    const [a, b] = [u(), u()].sort();
    expect(routeValue.parse({ ...base, requirements: [[b, a]] }).requirements).toEqual([[a, b]]);
    expect(routeValue.parse({ ...base, scopeIds: [b, a] }).requirements).toEqual([[a], [b]]);
  });
  test("an empty set, both forms at once, or neither is refused, naming the field", () => {
    const field = (v: unknown) => routeValue.safeParse(v).error?.issues[0].path.join(".");
    expect(field({ ...base, requirements: [[]] })).toBe("requirements.0");
    expect(field({ ...base, requirements: [], scopeIds: [] })).toBe("scopeIds");
    expect(field(base)).toBe("requirements");
  });
});

describe("state and decision", () => {
  const ids = { api: u(), route: u(), p: u(), cred: u(), a: u(), b: u(), c: u() };
  const now = Date.now();
  const api: Op = { op: "upsert", kind: "api", value: { id: ids.api, name: "x", prefix: "/x", upstream: "http://127.0.0.1:9" } };
  const cred: Op = { op: "upsert", kind: "credential", value: { id: ids.cred, principalId: ids.p, hash: sha("k"), expiresAt: null } };
  const grant = (scopeId: string, expiresAt: string | null = null): Op => ({ op: "upsert", kind: "grant", value: { id: u(), principalId: ids.p, scopeId, expiresAt } });
  const headers = { authorization: "Bearer k" };

  function stateWith(route: unknown, ...grants: Op[]): EnforcementState {
    const st = new EnforcementState();
    // As a state file or journal line is replayed: the value as written, not re-parsed.
    st.applyOps([api, { op: "upsert", kind: "route", value: route } as Op, cred, ...grants]);
    return st;
  }
  const routeWith = (requirements: string[][]) => ({ id: ids.route, apiId: ids.api, method: "GET", pathTemplate: "/r", requirements, public: false });

  test("a AND b needs both live grants; the other alternative still works", () => {
    const reqs = canonicalRequirements([[ids.a, ids.b], [ids.c]]);
    expect(decide(stateWith(routeWith(reqs), grant(ids.a)), "GET", "/x/r", headers, now).kind).toBe("forbidden");
    expect(decide(stateWith(routeWith(reqs), grant(ids.a), grant(ids.b, new Date(now - 1000).toISOString())), "GET", "/x/r", headers, now).kind).toBe("forbidden");
    expect(decide(stateWith(routeWith(reqs), grant(ids.a), grant(ids.b)), "GET", "/x/r", headers, now).kind).toBe("allow");
    expect(decide(stateWith(routeWith(reqs), grant(ids.c)), "GET", "/x/r", headers, now).kind).toBe("allow");
    expect(decide(stateWith(routeWith([]), grant(ids.a), grant(ids.b), grant(ids.c)), "GET", "/x/r", headers, now).kind).toBe("forbidden");
    // An empty set that did not come through the wire schema (a hand-edited state file) opens nothing.
    expect(decide(stateWith(routeWith([[]])), "GET", "/x/r", headers, now).kind).toBe("forbidden");
  });

  test("a route written by a proxy from before sets (scopeIds) loads as 'any one of', and is written back as requirements", () => {
    const legacy = { id: ids.route, apiId: ids.api, method: "GET", pathTemplate: "/r", scopeIds: [ids.a, ids.b], public: false };
    const st = stateWith(legacy, grant(ids.b));
    expect(decide(st, "GET", "/x/r", headers, now).kind).toBe("allow");
    const route = [...st.values()].find((v) => v.kind === "route")!.value;
    expect(route).toEqual({ id: ids.route, apiId: ids.api, method: "GET", pathTemplate: "/r", requirements: canonicalRequirements([[ids.a], [ids.b]]), public: false });
  });
});
