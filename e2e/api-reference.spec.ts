import { expect, test } from "@playwright/test";
import { signIn } from "./support/stack";

// The inventory API's reference in the dashboard (issue 15): an admin reads the generated
// OpenAPI description rendered by the bundled reference component, with no request
// leaving this Tollgate (no CDN, no web fonts); other roles are refused the page.

test("an admin reads the inventory API reference, served offline", async ({ page, baseURL }) => {
  test.setTimeout(180_000);
  const foreign: string[] = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (!["http:", "https:", "ws:"].includes(u.protocol)) return;
    if (u.origin !== new URL(baseURL!).origin) foreign.push(r.url());
  });
  await signIn(page, "admin@tollgate.test");
  await expect(page.getByRole("link", { name: "Inventory API" })).toHaveAttribute("href", "/settings/api");
  // A full load, not a client-side navigation: the reference's bundle is large and a loaded machine is slow to fetch it.
  await page.goto("/settings/api");
  await expect(page.getByRole("heading", { name: "Inventory API", exact: true })).toBeVisible({ timeout: 60_000 });
  // Rendered by the component from the generated document: its title and an operation of each kind.
  await expect(page.getByText("Tollgate inventory API").first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole("heading", { name: "List principals" })).toBeVisible();
  // Groups after the first open on demand: the grants group lists the revoke operation.
  await page.locator('a[href="#tag/grants"]').first().click();
  await expect(page.getByText("Revoke a grant").first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText("Ask AI")).toHaveCount(0);
  const doc = await page.request.get("/api/v1/openapi.json");
  expect(doc.status()).toBe(200);
  expect((await doc.json()).openapi).toBe("3.1.0");
  expect(foreign).toEqual([]);
});

test("non-admins do not get the reference page", async ({ page }) => {
  await signIn(page, "reviewer@tollgate.test");
  await expect(page.getByRole("link", { name: "Inventory API" })).toHaveCount(0);
  await page.goto("/settings/api");
  await expect(page.getByText("The API reference is for admins.")).toBeVisible();
});
