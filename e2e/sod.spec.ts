import { expect, test } from "@playwright/test";
import { sql, issueKey, pathFor, through, untilStatus, signIn, ensureAnalysed, displayName } from "./support/stack";

// Separation of duties through the UI (issue 6): a reviewer cannot decide on a grant
// they hold, and a production admin-scope revoke waits for a second reviewer before
// the proxy enforces it. Helpers mirror e2e/review.spec.ts (same stack, same env).

test.describe.configure({ mode: "serial" });

test("self-review: the reviewer cannot revoke their own grant; the finding stays open", async ({ page }) => {
  await signIn(page, "reviewer@tollgate.test");
  await ensureAnalysed(page);
  await page.goto("/queues?api=search&perPage=100");
  const name = await displayName("emp-riley-reviewer");
  const row = page.getByTestId("queue-table").locator("tbody tr", { hasText: name }).filter({ hasText: "search:write" }).first();
  await row.click();
  await page.getByTestId("finding-panel").getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByText("Separation of duties: you cannot decide on a grant you hold")).toBeVisible({ timeout: 10_000 });
  const rows = await sql<{ status: string; decisions: number }>(
    `SELECT f.status::text AS status, (SELECT count(*)::int FROM "Decision" d WHERE d."grantId" = g.id) AS decisions
       FROM "Finding" f JOIN "Grant" g ON g.id = f."grantId" JOIN "Principal" p ON p.id = g."principalId"
       JOIN "Scope" s ON s.id = g."scopeId" WHERE p."externalId" = 'emp-riley-reviewer' AND s.name = 'search:write'`,
  );
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) expect(r).toEqual({ status: "open", decisions: 0 });
});

test("two-person rule: an admin-scope production revoke waits for a second reviewer, then is enforced", async ({ page }) => {
  const key = await issueKey("svc:ops-automation");
  const path = await pathFor("admin", "admin:admin", "DELETE");

  await signIn(page, "reviewer@tollgate.test");
  await ensureAnalysed(page);
  await page.goto("/queues?api=admin&perPage=100");
  const name = await displayName("svc:ops-automation");
  const row = page.getByTestId("queue-table").locator("tbody tr", { hasText: name }).filter({ hasText: "admin:admin" }).first();
  await row.click();
  expect(await through("DELETE", path, key)).toBe(200);
  const panel = page.getByTestId("finding-panel");
  await expect(panel).toContainText("Two-person rule");
  await panel.getByRole("button", { name: "Revoke" }).click();
  await expect(row.getByTestId("enforcement-state")).toHaveAttribute("data-enforcement", "awaiting", { timeout: 10_000 });
  const decision = async () =>
    (await sql<{ awaiting: boolean; confirmer: string | null }>(
      `SELECT d."awaitingConfirmation" AS awaiting, d."confirmerId"::text AS confirmer FROM "Decision" d
         JOIN "Grant" g ON g.id = d."grantId" JOIN "Principal" p ON p.id = g."principalId"
         JOIN "Scope" s ON s.id = g."scopeId" WHERE p."externalId" = 'svc:ops-automation' AND s.name = 'admin:admin'`,
    ));
  expect(await decision()).toEqual([{ awaiting: true, confirmer: null }]);
  // Not enforced yet: the proxy still lets the key through (give a delivery time to go wrong).
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await through("DELETE", path, key)).toBe(200);

  // The same reviewer cannot be the second one.
  await row.click();
  await panel.getByRole("button", { name: "Confirm as second reviewer" }).click();
  await expect(page.getByText("Two-person rule: a different reviewer must confirm this decision")).toBeVisible({ timeout: 10_000 });
  expect(await decision()).toEqual([{ awaiting: true, confirmer: null }]);
  expect(await through("DELETE", path, key)).toBe(200);

  // A second reviewer confirms: now it is enforced.
  await page.context().clearCookies();
  await signIn(page, "reviewer2@tollgate.test");
  await page.goto("/queues?api=admin&perPage=100");
  const row2 = page.getByTestId("queue-table").locator("tbody tr", { hasText: name }).filter({ hasText: "admin:admin" }).first();
  await row2.click();
  await page.getByTestId("finding-panel").getByRole("button", { name: "Confirm as second reviewer" }).click();
  await untilStatus("DELETE", path, key, 403, 5_000);
  const [d] = await decision();
  expect(d.awaiting).toBe(false);
  expect(d.confirmer).not.toBeNull();
});
