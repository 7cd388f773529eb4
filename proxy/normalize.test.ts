import { expect, test } from "vitest";
import { RouteMatcher } from "./matcher";
import { normalizeTarget, segmentsOf, shadowPath } from "./normalize";

test("canonical paths pass, with unreserved escapes decoded and others upper-cased", () => {
  expect(normalizeTarget("/orders/42?x=1")).toEqual({ ok: true, path: "/orders/42", query: "?x=1" });
  expect(normalizeTarget("/%6Frders/a%2db")).toEqual({ ok: true, path: "/orders/a-b", query: "" });
  expect(normalizeTarget("/files/caf%c3%a9")).toEqual({ ok: true, path: "/files/caf%C3%A9", query: "" });
  expect(normalizeTarget("/orders/")).toEqual({ ok: true, path: "/orders", query: "" });
  expect(normalizeTarget("/")).toEqual({ ok: true, path: "/", query: "" });
});

test("traversal, encoded separators, NUL, matrix params and empty segments are rejected", () => {
  for (const t of ["/a/../b", "/a/%2e%2e/b", "/a/%2E%2e/b", "/a/./b", "/a/%2e/b", "/a%2fb", "/a%2Fb", "/a%5cb", "/a\\b", "/a%00", "/a\u0000", "/a//b", "/a/..;/b", "/a;x=1", "/a%zz", "/a%4", "*", "http://x/a", "", "/a b", "/a#f", "/é", "/a?x=\u0001"]) {
    expect(normalizeTarget(t).ok, JSON.stringify(t)).toBe(false);
  }
});

test("the matcher prefers static segments, backtracks, and falls back from HEAD to GET", () => {
  const m = new RouteMatcher();
  const r = (id: string, method: string, pathTemplate: string) => ({ id, apiId: "a", method, pathTemplate, requirements: [], public: false, need: new Int32Array(0) });
  m.add(r("item", "GET", "/orders/{id}"));
  m.add(r("export", "POST", "/orders/export"));
  m.add(r("items", "GET", "/orders/{id}/items"));
  m.add(r("root", "GET", "/"));
  expect(m.match("GET", segmentsOf("/orders/export"))?.id).toBe("item"); // static node lacks GET: backtrack to {id}
  expect(m.match("POST", segmentsOf("/orders/export"))?.id).toBe("export");
  expect(m.match("GET", segmentsOf("/orders/9/items"))?.id).toBe("items");
  expect(m.match("HEAD", segmentsOf("/orders/9"))?.id).toBe("item");
  expect(m.match("DELETE", segmentsOf("/orders/9"))).toBeNull();
  expect(m.match("GET", segmentsOf("/orders/9/items/3"))).toBeNull();
  expect(m.match("GET", segmentsOf("/"))?.id).toBe("root");
});

test("shadow paths fold ids", () => {
  expect(shadowPath(["orders", "12345", "notes"])).toBe("/orders/{param}/notes");
  expect(shadowPath(["u", "3f2b8c1e-9d4a-4e7b-a1c2-0123456789ab"])).toBe("/u/{param}");
  expect(shadowPath(["k", "ord_8f3kq2m9x1zz"])).toBe("/k/{param}");
  expect(shadowPath(["orders", "export"])).toBe("/orders/export");
});
