import { describe, expect, test } from "vitest";
import { forwardableName, headDefect, validHost } from "./request-head";

// The head rules nginx applies before the Lua module runs, as the Node proxy
// applies them (the conformance suite sends the same requests to both planes).

describe("validHost (nginx's ngx_http_validate_host)", () => {
  test.each(["api.example.com", "api.example.com:8443", "127.0.0.1", "[::1]:8080", "[::1]", "api.example.", "api.example.:80", "under_score", "a\\b"])("%s is a host", (h) => {
    expect(validHost(h)).toBe(true);
  });
  test.each(["", ".", ":80", "evil..example", "evil.example/../x", "evil example", "tab\there", "nul\u0000", "del\u007f", "a/b"])("%j is not", (h) => {
    expect(validHost(h)).toBe(false);
  });
});

describe("headDefect", () => {
  test("one Host and one Authorization are fine, in any case", () => {
    expect(headDefect(["host", "x", "AUTHORIZATION", "Bearer a", "X-Other", "1"])).toBeNull();
    expect(headDefect([])).toBeNull();
  });
  test("a second Host or Authorization line, or a bad Host, names the header", () => {
    expect(headDefect(["Host", "a", "HOST", "b"])).toBe("host");
    expect(headDefect(["Authorization", "Bearer a", "authorization", "Bearer b"])).toBe("authorization");
    expect(headDefect(["Host", "a/b"])).toBe("host");
  });
});

test("forwardableName: letters, digits and '-' only (nginx drops the rest)", () => {
  expect(forwardableName("x-request-id")).toBe(true);
  expect(forwardableName("x_tollgate_principal")).toBe(false);
  expect(forwardableName("x.original.url")).toBe(false);
  expect(forwardableName("")).toBe(false);
});
