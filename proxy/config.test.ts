import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { parseConfig } from "./config";

// Bad proxy configuration stops start-up with a message naming the variable,
// never a crash deep inside listen() or a proxy retrying an unusable URL forever.
const base = { PROXY_ADMIN_TOKEN: "0123456789abcdef0123" };

test("each bad value is refused by name", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PROXY_LISTEN: "127.0.0.1:99999" }, /PROXY_LISTEN: port must be 0-65535/],
    [{ PROXY_ADMIN_LISTEN: ":8081" }, /PROXY_ADMIN_LISTEN: must be host:port/],
    [{ DASHBOARD_URL: "ftp://dashboard.example", DASHBOARD_TOKEN: "t" }, /DASHBOARD_URL: must be an http/],
    [{ DASHBOARD_URL: "https://dashboard.example" }, /DASHBOARD_TOKEN: required/],
    [{ PROXY_FORWARD_API_KEY: "yes" }, /PROXY_FORWARD_API_KEY/],
    [{ PROXY_UPSTREAM_CONNECTIONS: "0" }, /PROXY_UPSTREAM_CONNECTIONS/],
    [{ PROXY_ADMIN_TOKEN: "short" }, /PROXY_ADMIN_TOKEN: must be at least 16/],
  ];
  for (const [env, message] of cases) expect(() => parseConfig({ ...base, ...env }), JSON.stringify(env)).toThrow(message);
  expect(parseConfig({ ...base, PROXY_LISTEN: "0.0.0.0:65535", DASHBOARD_URL: "http://127.0.0.1:3000", DASHBOARD_TOKEN: "t" }).PROXY_LISTEN).toEqual({ host: "0.0.0.0", port: 65535 });
});

test("the proxy process exits 1 naming the variable", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "proxy/main.ts"], {
    env: { PATH: process.env.PATH ?? "", ...base, PROXY_LISTEN: "127.0.0.1:99999", PROXY_ADMIN_LISTEN: "127.0.0.1:0" } as unknown as NodeJS.ProcessEnv,
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/PROXY_LISTEN: port must be 0-65535/);
});
