import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { E2E_OIDC } from "./support/oidc-provider";

// No server secret may reach the browser: not in the built client chunks, not
// in a rendered page (RSC payload). The runner builds and starts the app with
// these values, so finding one means a client component or NEXT_PUBLIC_/`env`
// config exposed it.
const secrets: Record<string, string | undefined> = {
  NEXTAUTH_SECRET: process.env.E2E_NEXTAUTH_SECRET ?? process.env.NEXTAUTH_SECRET,
  OIDC_CLIENT_SECRET: process.env.E2E_OIDC_CLIENT_SECRET ?? E2E_OIDC.clientSecret,
  PROXY_ADMIN_TOKEN: process.env.E2E_PROXY_ADMIN_TOKEN ?? process.env.PROXY_ADMIN_TOKEN,
};
const known = Object.entries(secrets).filter((e): e is [string, string] => typeof e[1] === "string" && e[1].length >= 8);

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? jsFiles(p) : p.endsWith(".js") ? [p] : [];
  });
}

test("built client chunks contain none of the configured secrets", () => {
  const dir = path.join(process.cwd(), ".next", "static");
  test.skip(!existsSync(dir), "no production build (.next/static) to scan — the e2e runner builds one");
  expect(known.length, "the runner must pass at least one secret value to look for").toBeGreaterThan(0);
  const files = jsFiles(dir);
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const [name, value] of known) {
      expect(text.includes(value), `${name} found in ${path.relative(process.cwd(), file)}`).toBe(false);
    }
  }
});

test("rendered pages carry none of the configured secrets", async ({ request }) => {
  expect(known.length).toBeGreaterThan(0);
  for (const url of ["/signin", "/api/auth/providers", "/api/auth/csrf"]) {
    const body = await (await request.get(url)).text();
    for (const [name, value] of known) expect(body.includes(value), `${name} found in ${url}`).toBe(false);
  }
});
