import { randomBytes } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { sql, issueKey, pathFor, through, untilStatus, signIn, displayName, createAndLaunchCampaign } from "./support/stack";

// Issue 7 acceptance (campaigns part): an admin creates and launches a campaign;
// the manager bulk-keeps, revokes one (the real proxy then refuses that key),
// delegates one and signs off; the campaign dashboard shows the progress.
// Then the two-person rule: a production admin-scope revoke proposed by the
// manager applies only once another reviewer confirms it, and reduce's scope picker.
// Helpers mirror e2e/review.spec.ts (same stack, same env).

const NAME = `E2E Checkout orders ${randomBytes(3).toString("hex")}`;
let campaignId = "";

test.describe.configure({ mode: "serial" });

test("an admin creates and launches a campaign scoped to a team and an API", async ({ page }) => {
  await signIn(page, "admin@tollgate.test");
  await page.goto("/campaigns");
  const form = page.getByTestId("create-campaign-form");
  // Validation: a period that is not one is refused, naming the field.
  await form.locator('[name="name"]').fill(NAME);
  await form.locator('[name="period"]').fill("someday");
  const due = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
  await form.locator('[name="dueAt"]').fill(due);
  await form.locator('select[name="teamIds"]').selectOption({ label: "Checkout" });
  await form.locator('select[name="environmentIds"]').selectOption({ label: "production" });
  await form.locator('select[name="apiIds"]').selectOption({ label: "orders (production)" });
  await form.getByRole("button", { name: "Create draft" }).click();
  await expect(form.getByTestId("error-period")).toContainText("2026-Q4");
  expect((await sql(`SELECT 1 FROM "Campaign" WHERE name = $1`, [NAME])).length).toBe(0);

  await form.locator('[name="period"]').fill("2026-Q4");
  await form.getByRole("button", { name: "Create draft" }).click();
  // "Create draft" opens the draft, which shows the launch preview.
  await expect(page).toHaveURL(/\/campaigns\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("launch-preview")).toBeVisible();
  await page.getByRole("button", { name: "Launch campaign" }).click();
  await expect(page.getByText(/Launched: \d+ items snapshotted/)).toBeVisible({ timeout: 30_000 });
  const [c] = await sql<{ id: string; snapshotCount: number; status: string }>(`SELECT id, "snapshotCount", status::text FROM "Campaign" WHERE name = $1`, [NAME]);
  expect(c.status).toBe("active");
  expect(c.snapshotCount).toBeGreaterThan(3);
  campaignId = c.id;
  await page.reload();
  await expect(page.getByTestId("snapshot-count")).toHaveText(String(c.snapshotCount));
});

test("the manager revokes one (enforced by the proxy), delegates one, bulk-keeps the rest and signs off", async ({ page }) => {
  test.setTimeout(180_000);
  expect(campaignId).not.toBe("");
  const key = await issueKey("emp-dormant-dora");
  const path = await pathFor("orders", "orders:write", "POST");
  expect(await through("POST", path, key)).not.toBe(403);

  await signIn(page, "manager@tollgate.test");
  await page.goto(`/certifications?campaign=${campaignId}`);
  await expect(page.getByTestId("progress-figure")).toContainText("0 /");
  const table = page.getByTestId("certification-table");

  // Revoke Dora's write access.
  const dora = await displayName("emp-dormant-dora");
  const group = table.locator("tr", { hasText: dora }).first();
  await expect(group).toBeVisible();
  const doraItem = table.locator('[data-testid="item-row"]', { hasText: "orders:write" }).filter({ has: page.getByLabel(`Select ${dora} orders:write`) });
  await doraItem.getByTestId("item-note").fill("Dora's write access is no longer needed");
  await doraItem.getByRole("button", { name: "Revoke", exact: true }).click();
  await expect(page.getByTestId("certify-message")).toHaveText("Item revoked");
  await untilStatus("POST", path, key, 403, 5_000);
  const [d] = await sql<{ enforcement: string; findingId: string | null }>(
    `SELECT d.enforcement::text AS enforcement, d."findingId" FROM "Decision" d JOIN "CampaignItem" i ON i.id = d."campaignItemId"
      WHERE i."campaignId" = $1 AND i."principalName" = $2 AND i."scopeName" = 'orders:write'`,
    [campaignId, dora],
  );
  expect(d.findingId).toBeNull();
  await expect.poll(async () => (await sql<{ e: string }>(`SELECT d.enforcement::text AS e FROM "Decision" d JOIN "CampaignItem" i ON i.id = d."campaignItemId" WHERE i."campaignId" = $1 AND i."principalName" = $2`, [campaignId, dora]))[0].e, { timeout: 10_000 }).toBe("applied");

  // Delegate one item to a reviewer.
  const rows = table.locator('[data-testid="item-row"]');
  const first = rows.filter({ has: page.locator('input[type="checkbox"]') }).first();
  const delegatedId = await first.getAttribute("data-item-id");
  await first.locator('input[type="checkbox"]').check();
  await page.getByLabel("Delegate to").selectOption({ label: "Jordan Reviewer <reviewer2@tollgate.test>" });
  await page.getByRole("button", { name: "Delegate selected" }).click();
  await expect(page.getByTestId("certify-message")).toHaveText("1 item(s) delegated");
  await expect(table.locator(`[data-item-id="${delegatedId}"]`)).toHaveCount(0);
  const [del] = await sql<{ email: string; source: string }>(
    `SELECT u.email, r.source::text AS source FROM "CampaignItemReviewer" r JOIN "User" u ON u.id = r."userId" WHERE r."itemId" = $1`,
    [delegatedId],
  );
  expect(del).toEqual({ email: "reviewer2@tollgate.test", source: "delegated" });

  // Bulk-keep everything left on the list.
  await expect(page.getByRole("button", { name: "Sign off" })).toBeDisabled();
  const left = await rows.filter({ has: page.locator('input[type="checkbox"]') }).count();
  expect(left).toBeGreaterThan(1);
  // Each row carries its own note (an item with open findings is not kept without one).
  for (const note of await rows.getByTestId("item-note").all()) await note.fill("Quarterly certification with the Checkout leads");
  await page.getByLabel("Select all on this page").check();
  await expect(page.getByTestId("selected-count")).toHaveText(`${left} selected`);
  await page.getByRole("button", { name: "Keep selected" }).click();
  // One transaction per item (as in the review queue's bulk): allow for a busy shared machine.
  // Once the list is empty the table gives way to its empty state.
  await expect(page.getByText("Nothing left to decide")).toBeVisible({ timeout: 90_000 });
  const [mine] = await sql<{ kept: number; open: number }>(
    `SELECT count(*) FILTER (WHERE i.decision = 'keep' AND u.email = 'manager@tollgate.test')::int AS kept,
            count(*) FILTER (WHERE i.decision IS NULL AND EXISTS (SELECT 1 FROM "CampaignItemReviewer" r JOIN "User" m ON m.id = r."userId" WHERE r."itemId" = i.id AND m.email = 'manager@tollgate.test'))::int AS open
       FROM "CampaignItem" i LEFT JOIN "User" u ON u.id = i."decidedById" WHERE i."campaignId" = $1`,
    [campaignId],
  );
  expect(mine).toEqual({ kept: left, open: 0 });
  await expect(page.getByTestId("progress-figure")).toHaveText(`${left + 1} / ${left + 1}`);

  // Sign off once every item is decided.
  await page.getByLabel("I certify that the access listed is appropriate").check();
  await page.getByRole("button", { name: "Sign off" }).click();
  await expect(page.getByTestId("signed-off")).toBeVisible();
  const [s] = await sql<{ itemCount: number }>(`SELECT "itemCount" FROM "CampaignSignOff" s JOIN "User" u ON u.id = s."userId" WHERE s."campaignId" = $1 AND u.email = 'manager@tollgate.test'`, [campaignId]);
  expect(s.itemCount).toBe(left + 1);
});

test("the campaign dashboard shows the progress", async ({ page, browser }) => {
  await signIn(page, "admin@tollgate.test");
  await page.goto(`/campaigns/${campaignId}`);
  const [t] = await sql<{ total: number; decided: number; keep: number; revoke: number }>(
    `SELECT count(*)::int AS total, count(decision)::int AS decided, count(*) FILTER (WHERE decision = 'keep')::int AS keep,
       count(*) FILTER (WHERE decision = 'revoke')::int AS revoke FROM "CampaignItem" WHERE "campaignId" = $1`,
    [campaignId],
  );
  const stat = (label: string) => page.getByTestId(`stat-${label}`);
  await expect(stat("Items")).toContainText(String(t.total));
  await expect(stat("Decided")).toContainText(String(t.decided));
  await expect(stat("Kept")).toContainText(String(t.keep));
  await expect(stat("Revoked")).toContainText(String(t.revoke));
  expect(t.revoke).toBe(1);
  await expect(page.getByTestId("completion-chart")).toBeVisible();
  await expect(page.getByTestId("sign-offs")).toContainText("Morgan Manager");
  // The manager's notification centre told them about the campaign.
  const context = await browser.newContext();
  const manager = await context.newPage();
  await signIn(manager, "manager@tollgate.test");
  await manager.getByTestId("notification-bell").click();
  await expect(manager.getByTestId("notification-list")).toContainText(NAME);
  await context.close();
});

test("two-person rule: the manager's revoke of a production admin scope waits; another reviewer confirms it and the proxy refuses the key", async ({ page, browser }) => {
  test.setTimeout(180_000);
  // The demo's Checkout person holding identity:admin in production (their manager is Morgan Manager).
  const [holder] = await sql<{ externalId: string; displayName: string }>(
    `SELECT p."externalId", p."displayName" FROM "Grant" g JOIN "Principal" p ON p.id = g."principalId" JOIN "Team" t ON t.id = p."teamId"
       JOIN "Scope" s ON s.id = g."scopeId" JOIN "Environment" e ON e.id = g."environmentId"
      WHERE t.name = 'Checkout' AND e.tier = 'production' AND s.name = 'identity:admin' AND g.status = 'active' ORDER BY p."displayName" LIMIT 1`,
  );
  expect(holder, "a Checkout principal with identity:admin in production").toBeTruthy();
  const key = await issueKey(holder.externalId);
  const adminPath = await pathFor("identity", "identity:admin", "DELETE");
  expect(await through("DELETE", adminPath, key)).not.toBe(403);

  // An admin launches a campaign over Checkout's identity access, named reviewers: the manager and a reviewer.
  const name = `E2E identity two-person ${randomBytes(3).toString("hex")}`;
  await signIn(page, "admin@tollgate.test");
  const id = await createAndLaunchCampaign(page, {
    name,
    team: "Checkout",
    environment: "production",
    api: "identity (production)",
    namedReviewers: ["Morgan Manager <manager@tollgate.test>", "Jordan Reviewer <reviewer2@tollgate.test>"],
  });

  // The manager proposes the revoke: nothing applied, the row says it waits for someone else.
  const manager = await (await browser.newContext()).newPage();
  await signIn(manager, "manager@tollgate.test");
  await manager.goto(`/certifications?campaign=${id}`);
  // The only identity:admin item of the campaign.
  const row = (p: Page) => p.getByTestId("certification-table").locator('[data-testid="item-row"]').filter({ hasText: "identity:admin" });
  await row(manager).getByTestId("item-note").fill("Admin on identity is no longer part of the role");
  await row(manager).getByRole("button", { name: "Revoke", exact: true }).click();
  await expect(manager.getByTestId("certify-message")).toContainText("Revoke proposed");
  await expect(row(manager).getByTestId("proposal")).toContainText("awaiting 2nd reviewer");
  await expect(row(manager).getByTestId("proposal")).toContainText("proposed by you");
  await expect(row(manager).getByRole("button", { name: /Confirm/ })).toHaveCount(0);
  await expect(row(manager).getByRole("checkbox")).toHaveCount(0); // not selectable for bulk: deciding it again is a 409
  await expect(manager.getByTestId("awaiting-count")).toHaveText("1 awaiting a 2nd reviewer");
  const [proposal] = await sql<{ awaiting: boolean; outbox: number; grant: string }>(
    `SELECT d."awaitingConfirmation" AS awaiting, (SELECT count(*)::int FROM "OutboxItem" o WHERE o."decisionId" = d.id) AS outbox, g.status::text AS grant
       FROM "Decision" d JOIN "CampaignItem" i ON i.id = d."campaignItemId" JOIN "Grant" g ON g.id = i."grantId"
      WHERE i."campaignId" = $1 AND i."scopeName" = 'identity:admin'`,
    [id],
  );
  expect(proposal).toEqual({ awaiting: true, outbox: 0, grant: "active" });
  expect(await through("DELETE", adminPath, key)).not.toBe(403);

  // Reduce with the scope picker: on the write item of someone holding identity read and write (no admin, so
  // the rule does not apply), the manager keeps read and drops write.
  const [both] = await sql<{ displayName: string }>(
    `SELECT p."displayName" FROM "Principal" p JOIN "Team" t ON t.id = p."teamId"
      WHERE t.name = 'Checkout' AND ${["identity:read", "identity:write"].map((scope) => `EXISTS (${activeIdentityGrant(scope)})`).join(" AND ")} AND NOT EXISTS (${activeIdentityGrant("identity:admin")})
      ORDER BY p."displayName" LIMIT 1`,
  );
  expect(both, "a Checkout principal with identity read and write in production").toBeTruthy();
  const reduceRow = manager.getByTestId("certification-table").locator('[data-testid="item-row"]').filter({ has: manager.getByLabel(`Select ${both.displayName} identity:write`) });
  const reducedItem = await reduceRow.getAttribute("data-item-id");
  await reduceRow.getByRole("button", { name: "Reduce…" }).click();
  const picker = manager.getByTestId("reduce-picker");
  await expect(picker.getByRole("checkbox").first()).toBeFocused();
  await picker.getByRole("checkbox", { name: /identity:read/ }).check();
  await picker.getByRole("checkbox", { name: /identity:write/ }).uncheck();
  await picker.getByRole("button", { name: "Reduce to the checked scopes" }).click();
  await expect(manager.getByTestId("certify-message")).toHaveText("Item reduced");
  const [reduced] = await sql<{ decision: string; kept: string[] }>(
    `SELECT i.decision::text AS decision, ARRAY(SELECT s.name FROM "Scope" s WHERE s.id = ANY(i."keptScopeIds") ORDER BY s.name) AS kept FROM "CampaignItem" i WHERE i.id = $1`,
    [reducedItem],
  );
  expect(reduced.decision).toBe("reduce");
  expect(reduced.kept).toContain("identity:read");
  expect(reduced.kept).not.toContain("identity:write");

  // Jordan Reviewer, also on the item's list, confirms it with the keyboard; the proxy then refuses the key.
  const reviewer = await (await browser.newContext()).newPage();
  await signIn(reviewer, "reviewer2@tollgate.test");
  await reviewer.goto(`/certifications?campaign=${id}&status=awaiting`);
  await expect(row(reviewer).getByTestId("proposal")).toContainText("proposed by Morgan Manager");
  await row(reviewer).getByRole("button", { name: "Confirm the proposed revoke" }).focus();
  await reviewer.keyboard.press("Enter");
  await expect(reviewer.getByTestId("certify-message")).toHaveText("Proposal confirmed and applied");
  await untilStatus("DELETE", adminPath, key, 403, 5_000);
  const [item] = await sql<{ decision: string; decider: string; confirmer: string }>(
    `SELECT i.decision::text AS decision, du.email AS decider, cu.email AS confirmer FROM "CampaignItem" i
       JOIN "User" du ON du.id = i."decidedById" JOIN "User" cu ON cu.id = i."confirmedById"
      WHERE i."campaignId" = $1 AND i."scopeName" = 'identity:admin'`,
    [id],
  );
  expect(item).toEqual({ decision: "revoke", decider: "manager@tollgate.test", confirmer: "reviewer2@tollgate.test" });
  await expect
    .poll(async () => (await sql<{ e: string }>(`SELECT d.enforcement::text AS e FROM "Decision" d JOIN "CampaignItem" i ON i.id = d."campaignItemId" WHERE i."campaignId" = $1 AND i."scopeName" = 'identity:admin' AND d.discard IS NULL`, [id]))[0].e, { timeout: 10_000 })
    .toBe("applied");
  await manager.context().close();
  await reviewer.context().close();
});

/** SQL: an active, unexpired production grant of `scope` held by principal p. */
function activeIdentityGrant(scope: string): string {
  return `SELECT 1 FROM "Grant" g JOIN "Scope" s ON s.id = g."scopeId" JOIN "Environment" e ON e.id = g."environmentId"
    WHERE g."principalId" = p.id AND s.name = '${scope}' AND e.tier = 'production' AND g.status = 'active' AND (g."expiresAt" IS NULL OR g."expiresAt" > now())`;
}
