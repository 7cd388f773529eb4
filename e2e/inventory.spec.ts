import { expect, test, type Page } from "@playwright/test";

// The inventory in real Chromium against the demo company: overview → grants,
// server-side filter / sort / pagination driven by the URL, a principal's
// detail page with its usage chart, and a junk query string that must still
// render a sane page.

async function signIn(page: Page) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill("auditor@tollgate.test");
  await page.getByLabel("Password").fill("tollgate-demo");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/^https?:\/\/[^/]+\/$/, { timeout: 30_000 });
}

const table = (page: Page) => page.getByTestId("data-table");
const bodyRows = (page: Page) => table(page).locator("tbody tr");

test("overview → grants: filter, sort, paginate, open a principal and see its usage", async ({ page }) => {
  // A long journey (a dozen server round trips); the default 60 s is tight on a loaded 2-core machine.
  test.setTimeout(180_000);
  await signIn(page);

  // Overview: real figures and the chart.
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  await expect(page.getByTestId("stat-Active grants")).toContainText(/\d/);
  await expect(page.getByTestId("stacked-bar-chart").locator(".recharts-bar-rectangle").first()).toBeVisible();
  await page.screenshot({ path: "docs/screenshot-overview.png", fullPage: true });

  await page.getByRole("link", { name: "Grants", exact: true }).click();
  // Generous timeouts on the first visit of a route: a loaded 2-core CI machine is slow to serve it.
  await expect(page).toHaveURL(/\/grants/, { timeout: 30_000 });
  await expect(bodyRows(page)).toHaveCount(25);

  // Filter: production + active. The URL carries the view.
  await page.getByRole("combobox", { name: "Environment" }).selectOption("production");
  await expect(page).toHaveURL(/environment=production/);
  await page.getByRole("combobox", { name: "Status" }).selectOption("active");
  await expect(page).toHaveURL(/status=active/);
  await expect(bodyRows(page).first()).toBeVisible();
  const envCol = await table(page).locator("thead th").allTextContents();
  const envIdx = envCol.findIndex((t) => t.startsWith("Environment"));
  const statusIdx = envCol.findIndex((t) => t.startsWith("Status"));
  for (const row of await bodyRows(page).all()) {
    await expect(row.locator("td").nth(envIdx)).toHaveText("production");
    await expect(row.locator("td").nth(statusIdx)).toHaveText("active");
  }

  // Sort by last use: first click is descending, second ascending (never-used first).
  const lastUsedHeader = table(page).locator("thead th", { hasText: "Last used" });
  await lastUsedHeader.getByRole("button").click();
  await expect(lastUsedHeader).toHaveAttribute("aria-sort", "descending");
  await lastUsedHeader.getByRole("button").click();
  await expect(lastUsedHeader).toHaveAttribute("aria-sort", "ascending");
  await expect(page).toHaveURL(/sort=lastUsedAt/);
  await expect(page).toHaveURL(/dir=asc/);
  const lastUsedIdx = envCol.findIndex((t) => t.startsWith("Last used"));
  await expect(bodyRows(page).first().locator("td").nth(lastUsedIdx)).toHaveText("never");

  // Paginate.
  // ("Page 1 of N", or just "Page 1" when the count ran over its time budget on a loaded machine.)
  await expect(page.getByTestId("page-indicator")).toHaveText(/^Page 1( of [\d,]+)?$/);
  const firstOfPage1 = await bodyRows(page).first().textContent();
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page.getByTestId("page-indicator")).toHaveText(/^Page 2( of [\d,]+)?$/);
  await expect(page).toHaveURL(/page=2/);
  expect(await bodyRows(page).first().textContent()).not.toBe(firstOfPage1);
  await page.getByRole("combobox", { name: "Rows per page" }).selectOption("50");
  await expect(bodyRows(page)).toHaveCount(50);
  await expect(page.getByTestId("page-indicator")).toHaveText(/^Page 1( of [\d,]+)?$/);

  // Search a planted principal and open it.
  await page.getByRole("searchbox", { name: "Principal" }).fill("Healthy Hannah");
  await page.getByRole("searchbox", { name: "Principal" }).press("Enter");
  await expect(page).toHaveURL(/q=Healthy/);
  await expect(bodyRows(page)).toHaveCount(3);
  await bodyRows(page).first().getByRole("link", { name: "Healthy Hannah" }).click();
  await expect(page.getByRole("heading", { name: /Healthy Hannah/ })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("principal-grants").locator("tbody tr")).toHaveCount(3);
  await expect(page.getByTestId("usage-chart").locator(".recharts-area-area")).toBeVisible();
});

test("a junk query string shows a sane grants page, and bad ids are 404s", async ({ page }) => {
  await signIn(page);
  const res = await page.goto("/grants?page=-3&sort=drop&perPage=99999&status=nope&api=zzz");
  expect(res?.status()).toBe(200);
  await expect(bodyRows(page)).toHaveCount(25);
  await expect(page.getByTestId("page-indicator")).toHaveText(/^Page 1( of [\d,]+)?$/);
  await expect(table(page).locator("thead th", { hasText: "Granted" })).toHaveAttribute("aria-sort", "descending");

  const badPrincipal = await page.goto("/principals/not-a-uuid");
  expect(badPrincipal?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  const missingApi = await page.goto("/apis/00000000-0000-4000-8000-000000000000");
  expect(missingApi?.status()).toBe(404);
});

test("APIs list links to an API's endpoints and scope holders", async ({ page }) => {
  await signIn(page);
  await page.goto("/apis");
  // The demo's 18 APIs (other specs may have imported more by the time this runs).
  await expect(page.getByTestId("apis-table").locator("tbody tr").first()).toBeVisible();
  expect(await page.getByTestId("apis-table").locator("tbody tr").count()).toBeGreaterThanOrEqual(18);
  await page.getByTestId("apis-table").getByRole("link", { name: "orders", exact: true }).first().click();
  await expect(page.getByRole("heading", { name: /orders/ })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("endpoints-table")).toContainText("/orders/{id}");
  await expect(page.getByTestId("scope-card").filter({ hasText: "orders:write" })).toContainText("Healthy Hannah");
});
