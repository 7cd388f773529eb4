import { expect, test } from "vitest";
import { DEFAULT_ROLE_MAP, parseRoleMap, readGroupsClaim, rolesForGroups } from "./roles";
import { FailureWindow } from "./rate-limit";
import { assertSameOrigin, errorBody } from "./http";
import { AppError } from "@/lib/errors";

test("groups map to roles through OIDC_ROLE_MAP, deduplicated, unknown groups ignored", () => {
  const map = parseRoleMap('{"sec-team":["auditor","reviewer"],"platform-admins":"admin","eng":["reviewer"]}');
  expect(rolesForGroups(["eng", "sec-team", "everyone"], map)).toEqual(["reviewer", "auditor"]);
  expect(rolesForGroups(["platform-admins"], map)).toEqual(["admin"]);
  expect(rolesForGroups(["everyone"], map)).toEqual([]);
});

test("without OIDC_ROLE_MAP the tollgate-* groups apply", () => {
  expect(parseRoleMap(undefined)).toBe(DEFAULT_ROLE_MAP);
  expect(rolesForGroups(["tollgate-admins", "tollgate-auditors"], parseRoleMap(""))).toEqual(["admin", "auditor"]);
});

test("a bad OIDC_ROLE_MAP is refused with a message naming the group", () => {
  expect(() => parseRoleMap("{not json")).toThrow(/OIDC_ROLE_MAP: must be a JSON object/);
  expect(() => parseRoleMap('{"ops":["superuser"]}')).toThrow(/OIDC_ROLE_MAP \(group "ops"\)/);
  expect(() => parseRoleMap('["admin"]')).toThrow(/OIDC_ROLE_MAP/);
  expect(() => parseRoleMap('{"ops":[]}')).toThrow(/group "ops"/);
});

test("the groups claim may be a list, a single string, or a nested path", () => {
  expect(readGroupsClaim({ groups: ["a", "b", 3] }, "groups")).toEqual(["a", "b"]);
  expect(readGroupsClaim({ groups: "a" }, "groups")).toEqual(["a"]);
  expect(readGroupsClaim({ realm_access: { roles: ["x"] } }, "realm_access.roles")).toEqual(["x"]);
  expect(readGroupsClaim({ "https://example.com/groups": ["y"] }, "https://example.com/groups")).toEqual(["y"]);
  expect(readGroupsClaim({}, "groups")).toEqual([]);
});

test("the failure window refuses the 6th failure within a minute and frees up as failures age", () => {
  const w = new FailureWindow(5, 60_000);
  const t0 = 1_000_000;
  for (let i = 0; i < 5; i++) {
    expect(w.retryAfter("k", t0 + i * 1000)).toBe(0);
    w.fail("k", t0 + i * 1000);
  }
  expect(w.retryAfter("k", t0 + 5000)).toBe(55_000);
  expect(w.retryAfter("other", t0 + 5000)).toBe(0);
  expect(w.retryAfter("k", t0 + 60_001)).toBe(0); // the first failure has aged out
});

test("mutating requests from another origin are refused; same origin and non-browser clients pass", () => {
  const req = (method: string, headers: Record<string, string>) => new Request("http://app.test/api/x", { method, headers });
  expect(() => assertSameOrigin(req("POST", { host: "app.test", origin: "http://app.test" }))).not.toThrow();
  expect(() => assertSameOrigin(req("POST", { host: "app.test", origin: "https://evil.test" }))).toThrow(AppError);
  expect(() => assertSameOrigin(req("DELETE", { host: "app.test", origin: "null" }))).toThrow(/Cross-origin/);
  expect(() => assertSameOrigin(req("POST", { host: "app.test", "sec-fetch-site": "cross-site" }))).toThrow(/Cross-origin/);
  expect(() => assertSameOrigin(req("POST", { host: "app.test", authorization: "Bearer tgs_x" }))).not.toThrow();
  expect(() => assertSameOrigin(req("GET", { host: "app.test", origin: "https://evil.test" }))).not.toThrow();
});

test("errors map to status + JSON naming the field; unknown errors get a log id, not their message", () => {
  expect(errorBody(new AppError("bad_request", "name: required", "name"))).toEqual({
    status: 400,
    body: { error: { code: "bad_request", message: "name: required", field: "name" } },
  });
  const orig = console.error;
  console.error = () => {};
  try {
    const r = errorBody(new Error("password=hunter2 in a stack"));
    expect(r.status).toBe(500);
    expect(r.body.error.message).not.toContain("hunter2");
    expect(r.body.error.message).toContain(r.body.error.logId);
  } finally {
    console.error = orig;
  }
});

test("after sign-in only same-site paths are followed (no open redirect)", async () => {
  const { safeCallbackPath } = await import("./redirect");
  const base = "https://tollgate.example.com";
  expect(safeCallbackPath("https://tollgate.example.com/audit?page=2", base)).toBe("/audit?page=2");
  expect(safeCallbackPath("/grants", base)).toBe("/grants");
  expect(safeCallbackPath("https://evil.test/x", base)).toBe("/");
  expect(safeCallbackPath("//evil.test/x", base)).toBe("/");
  expect(safeCallbackPath("http://tollgate.example.com/x", base)).toBe("/"); // downgrade to http is another origin
  expect(safeCallbackPath(undefined, base)).toBe("/");
});

test("the sign-in page redirects to the public URL's host only when single sign-on needs it", async () => {
  const { canonicalSignInUrl } = await import("./redirect");
  const publicUrl = "http://localhost:3000";
  const path = "/signin?callbackUrl=%2Fqueues";
  // Same host: nothing to do (case does not matter in host names).
  expect(canonicalSignInUrl({ requestHost: "LOCALHOST:3000", publicUrl, path, oidc: true })).toBeNull();
  // SSO on another host: its callback is registered on the public URL, so go there first.
  expect(canonicalSignInUrl({ requestHost: "127.0.0.1:3000", publicUrl, path, oidc: true })).toBe("http://localhost:3000/signin?callbackUrl=%2Fqueues");
  // Demo-only sign-in follows the request's own host (its form posts and navigates relative to it).
  expect(canonicalSignInUrl({ requestHost: "127.0.0.1:3000", publicUrl, path, oidc: false })).toBeNull();
  // No public URL or no Host header: nothing to compare with.
  expect(canonicalSignInUrl({ requestHost: "127.0.0.1:3000", publicUrl: undefined, path, oidc: true })).toBeNull();
  expect(canonicalSignInUrl({ requestHost: null, publicUrl, path, oidc: true })).toBeNull();
  // A path that tries to name another origin stays on the public URL.
  expect(new URL(canonicalSignInUrl({ requestHost: "127.0.0.1:3000", publicUrl, path: "//evil.test/x", oidc: true })!).origin).toBe("http://localhost:3000");
});

test("groups named like Object.prototype members grant nothing and do not throw", () => {
  const map = parseRoleMap('{"tg-admin":["admin"]}');
  expect(rolesForGroups(["constructor", "__proto__", "toString", "hasOwnProperty"], map)).toEqual([]);
  expect(rolesForGroups(["constructor", "tg-admin"], map)).toEqual(["admin"]);
  // Okta: names; Entra: object ids; Keycloak: realm_access.roles.
  const idMap = parseRoleMap('{"6f8a3c2e-1b2d-4c5e-9f00-0123456789ab":["auditor"]}');
  expect(rolesForGroups(readGroupsClaim({ groups: ["6f8a3c2e-1b2d-4c5e-9f00-0123456789ab"] }, "groups"), idMap)).toEqual(["auditor"]);
  expect(rolesForGroups(readGroupsClaim({ realm_access: { roles: ["tg-admin", "offline_access"] } }, "realm_access.roles"), map)).toEqual(["admin"]);
  // Entra groups overage: no groups claim at all, only a pointer to Graph.
  expect(readGroupsClaim({ _claim_names: { groups: "src1" }, _claim_sources: { src1: { endpoint: "https://graph.microsoft.com/v1.0/users/x/getMemberObjects" } } }, "groups")).toEqual([]);
});
