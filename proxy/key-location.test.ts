import { describe, expect, it } from "vitest";
import { keyAtLocation, keyHeaderNames, queryWithoutKeys } from "./key-location";
import { RouteMatcher } from "./matcher";
import { routeValue } from "./schemas";

// Kong key-auth's key_names semantics (kong/plugins/key-auth/handler.lua) and
// the "{rest*}" template that serves Kong's prefix routes.
const loc = { names: ["apikey", "x_admin_key"], header: true, query: true };

describe("keyAtLocation", () => {
  it.each([
    ["header", { apikey: "k1" }, "", "k1"],
    ["query", {}, "?apikey=k1", "k1"],
    ["header before query", { apikey: "h" }, "?apikey=q", "h"],
    ["names in order: the first present name wins", { "x-admin-key": "second" }, "?apikey=first", "first"],
    ["underscore names are read as hyphenated headers", { "x-admin-key": "k2" }, "", "k2"],
    ["percent-decoded query value", {}, "?apikey=a%2Bb+c", "a+b c"],
    ["a bare ?apikey is no value: the search goes on", {}, "?apikey&x_admin_key=k3", "k3"],
    ["a key sent twice is refused", {}, "?apikey=a&apikey=b", null],
    ["an empty key is refused", {}, "?apikey=", null],
    ["an empty header is the key, and refused", { apikey: "" }, "?apikey=q", null],
    ["nothing", { authorization: "Bearer k" }, "?other=1", null],
  ])("%s", (_n, headers, query, want) => {
    expect(keyAtLocation(loc, headers as never, query)).toBe(want);
  });

  it("reads only the configured places", () => {
    expect(keyAtLocation({ ...loc, query: false }, {}, "?apikey=q")).toBeNull();
    expect(keyAtLocation({ ...loc, header: false }, { apikey: "h" }, "")).toBeNull();
  });

  it("strips every key name from the forwarded query and names the key headers", () => {
    expect(queryWithoutKeys(loc, "?a=1&apikey=k&b=2&x_admin_key=z")).toBe("?a=1&b=2");
    expect(queryWithoutKeys(loc, "?apikey=k")).toBe("");
    expect([...keyHeaderNames(loc)].sort()).toEqual(["apikey", "x-admin-key", "x_admin_key"]);
  });
});

describe("RouteMatcher with a {rest*} template", () => {
  const route = (id: string, method: string, pathTemplate: string) => ({ id, apiId: "a", method, pathTemplate, requirements: [], public: false, need: new Int32Array(0) });
  const m = new RouteMatcher();
  m.add(route("rest", "GET", "/{path*}"));
  m.add(route("static", "GET", "/export"));
  m.add(route("param", "GET", "/items/{id}"));
  it.each([
    [[], "rest"],
    [["x"], "rest"],
    [["a", "b", "c"], "rest"],
    [["export"], "static"],
    [["items", "1"], "param"],
    [["items", "1", "more"], "rest"],
  ])("%j -> %s", (segs, want) => {
    expect(m.match("GET", segs)?.id).toBe(want);
  });
  it("is method-specific and HEAD falls back to GET", () => {
    expect(m.match("POST", ["x"])).toBeNull();
    expect(m.match("HEAD", ["x"])?.id).toBe("rest");
  });
  it("the wire schema accepts {rest*} only as the last segment", () => {
    const ok = (t: string) => routeValue.safeParse({ ...route("1", "GET", t), id: "00000000-0000-4000-8000-000000000001", apiId: "00000000-0000-4000-8000-000000000002" }).success;
    expect(ok("/{path*}")).toBe(true);
    expect(ok("/v1/{path*}")).toBe(true);
    expect(ok("/{path*}/x")).toBe(false);
    expect(ok("/orders/{id}")).toBe(true);
  });
});
