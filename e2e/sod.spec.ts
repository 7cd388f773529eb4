import { expect, test } from "@playwright/test";
import { sql, issueKey, pathFor, through, untilStatus, signIn, ensureAnalysed, displayName } from "./support/stack";

// Separation of duties through the UI (issue 6): a reviewer cannot decide on a grant
// they hold, and a production admin-scope revoke waits for a second reviewer before
// the proxy enforces it. Helpers mirror e2e/review.spec.ts (same stack, same env).

test.describe.configure({ mode: "serial" });

test("self-review: the reviewer is told up front they cannot decide their own grant (no Revoke offered); the finding stays open", async ({ page }) => {
  await signIn(page, "reviewer@tollgate.test");
  await ensureAnalysed(page);
  await page.goto("/queues?api=search&perPage=100");
  const name = await displayName("emp-riley-reviewer");
  const row = page.getByTestId("queue-table").locator("tbody tr", { hasText: name }).filter({ hasText: "search:write" }).first();
  await row.click();
  const panel = page.getByTestId("finding-panel");
  await expect(panel.getByTestId("read-only-notice")).toHaveText("Separation of duties: you cannot decide on a grant you hold");
  await expect(panel.getByRole("button", { name: /^(Approve|Revoke|Reduce)$/ })).toHaveCount(0);
  // "r" does nothing either (the lib refuses it anyway: lib/review/review.test.ts).
  await page.keyboard.press("r");
  await expect(page.getByTestId("undo-toast")).toHaveCount(0);
  const rows = await sql<{ status: string; decisions: number }>(
    `SELECT f.status::text AS status, (SELECT count(*)::int FROM "Decision" d WHERE d."grantId" = g.id) AS decisions
       FROM "Finding" f JOIN "Grant" g ON g.id = f."grantId" JOIN "Principal" p ON p.id = g."principalId"
       JOIN "Scope" s ON s.id = g."scopeId" WHERE p."externalId" = 'emp-riley-reviewer' AND s.name = 'search:write'`,
  );
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) expect(r).toEqual({ status: "open", decisions: 0 });
});

test("two-person rule: an admin-scope production revoke waits for a second reviewer, then is enforced", async ({ page, browser }, testInfo) => {
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

  // The proposer is told to wait, not offered a Confirm they would be refused (issue 19, point 4).
  await row.click();
  await expect(panel.getByTestId("waiting-for-reviewer")).toHaveText("You proposed this: waiting for another reviewer to confirm it.");
  await expect(panel.getByRole("button", { name: "Confirm as second reviewer" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: /^Needs 2nd review \(\d+\)$/ })).toBeVisible();
  await testInfo.attach("proposer waits", { body: await page.screenshot(), contentType: "image/png" });
  expect(await decision()).toEqual([{ awaiting: true, confirmer: null }]);
  expect(await through("DELETE", path, key)).toBe(200);

  // "Recently decided" lists the proposal with who proposed it (another tab of the proposer's).
  const decidedTab = await page.context().newPage();
  await decidedTab.goto("/queues?view=decided&api=admin&perPage=100");
  const proposedRow = decidedTab.getByTestId("queue-table").locator("tbody tr", { hasText: name }).filter({ hasText: "admin:admin" }).first();
  await expect(proposedRow.getByTestId("enforcement-state")).toHaveAttribute("data-enforcement", "awaiting");
  await expect(proposedRow).toContainText("proposed by Riley Reviewer");
  await decidedTab.close();

  // A second reviewer finds it under "Needs 2nd review (n)" and confirms it; the proposer's open panel follows within seconds.
  const ctx = await browser.newContext();
  const second = await ctx.newPage();
  await signIn(second, "reviewer2@tollgate.test");
  await second.goto("/queues?api=admin&perPage=100");
  const [{ n }] = await sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM "Finding" f WHERE f.status = 'open' AND f.id IN (
       SELECT d."findingId" FROM "Decision" d JOIN "User" u ON u.email = 'reviewer2@tollgate.test'
       WHERE d.enforcement = 'proposed' AND d."deciderId" <> u.id)
       AND NOT EXISTS (SELECT 1 FROM "Grant" g JOIN "Principal" p ON p.id = g."principalId" JOIN "User" u ON u.email = 'reviewer2@tollgate.test'
         WHERE g.id = f."grantId" AND (p.id = u."principalId" OR (p.kind <> 'user' AND p."managerId" = u."principalId")))`,
  );
  await second.getByRole("link", { name: `Needs 2nd review (${n})` }).click();
  await expect(second).toHaveURL(/view=confirm/);
  const row2 = second.getByTestId("queue-table").locator("tbody tr", { hasText: name }).filter({ hasText: "admin:admin" }).first();
  await row2.click();
  await second.getByTestId("finding-panel").getByRole("button", { name: "Confirm as second reviewer" }).click();
  const confirmed = Date.now();
  await untilStatus("DELETE", path, key, 403, 5_000);
  const [d] = await decision();
  expect(d.awaiting).toBe(false);
  expect(d.confirmer).not.toBeNull();
  await expect(panel.getByTestId("enforcement-state")).toHaveAttribute("data-enforcement", "applied", { timeout: 6_000 });
  expect(Date.now() - confirmed).toBeLessThan(6_000);
  await expect(panel).toContainText("confirmed by Jordan Reviewer");
  await expect(panel.getByTestId("waiting-for-reviewer")).toHaveCount(0);
  await testInfo.attach("proposer's panel after the confirm", { body: await page.screenshot(), contentType: "image/png" });
  await ctx.close();
});
