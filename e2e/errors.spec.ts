import { expect, test } from "@playwright/test";
import { env, signIn, sql } from "./support/stack";

// Issue 14 items 5 and 6, through the real production build.
const base = () => env("BASE_URL");

for (const email of ["reviewer@tollgate.test", "manager@tollgate.test", "auditor@tollgate.test"]) {
  test(`/settings/proxies is a polite refusal for ${email}, not a 500`, async ({ page }) => {
    await signIn(page, email);
    const res = await page.goto("/settings/proxies");
    expect(res?.status()).toBe(200);
    await expect(page.getByText("Enforcement proxies are managed by admins only.")).toBeVisible();
    await expect(page.getByText("Something went wrong")).toHaveCount(0);
  });
}

test("malformed requests are 4xx and write no export record", async ({ page, playwright }) => {
  const anon = await playwright.request.newContext();
  try {
    const cb = await anon.post(`${base()}/api/auth/callback/demo`, { headers: { "content-type": "application/json" }, data: Buffer.from("{"), maxRedirects: 0 });
    // A Buffer: Playwright would JSON-encode a string body (sending the valid JSON text "\"{\"").
    expect(cb.status()).toBe(400);
  } finally {
    await anon.dispose();
  }
  await signIn(page, "auditor@tollgate.test");
  const count = async () => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "ReportExport"`))[0].n;
  const before = await count();
  for (const qs of ["environment=%00", "asOf=0000-01-01", "environment=no-such-environment", "team=no-such-team"]) {
    const r = await page.request.get(`${base()}/api/v1/reports/inventory?format=csv&${qs}`);
    expect(r.status(), qs).toBe(400);
  }
  const r = await page.request.get(`${base()}/api/v1/reports/revocations?format=csv&from=0000-01-01`);
  expect(r.status()).toBe(400);
  expect(await count()).toBe(before);
});
