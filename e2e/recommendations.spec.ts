import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { shot } from "./support/layout";
import { createAndLaunchCampaign, ensureAnalysed, signIn, sql } from "./support/stack";

// Issue 19, point 7: the manager's certification list. A note per row (required to keep an item with open
// findings), a recommendation from the item's findings accepted in one click, and the progress and sign-off
// bar that stays on screen. Runs after the overview spec has analysed the demo data (or analyses it itself).

test("a manager keeps a risky item only with a note, accepts a recommendation in one click, and always sees the progress bar", async ({ page }, info) => {
  test.setTimeout(240_000);
  await signIn(page, "admin@tollgate.test");
  await ensureAnalysed(page);
  // The API of a team whose production grants carry the most open "revoke" findings (Morgan Manager
  // certifies as the named reviewer; the launch leaves out her own access).
  const [target] = await sql<{ team: string; api: string }>(
    `SELECT t.name AS team, a.name AS api FROM "Finding" f JOIN "Grant" g ON g.id = f."grantId" JOIN "Principal" p ON p.id = g."principalId"
       JOIN "Team" t ON t.id = p."teamId" JOIN "Scope" s ON s.id = g."scopeId" JOIN "Api" a ON a.id = s."apiId" JOIN "Environment" e ON e.id = g."environmentId"
      WHERE f.status = 'open' AND f.rule IN ('dormant', 'never_used') AND e.tier = 'production' AND g.status = 'active' AND s.level <> 'admin'
        AND p."externalId" <> 'emp-morgan-manager'
      GROUP BY t.name, a.name ORDER BY count(*) DESC, t.name, a.name LIMIT 1`,
  );
  expect(target, "an open dormant or never-used finding in production").toBeTruthy();
  const name = `E2E recommendations ${randomBytes(3).toString("hex")}`;
  const id = await createAndLaunchCampaign(page, { name, team: target.team, environment: "production", api: `${target.api} (production)`, namedReviewers: ["Morgan Manager <manager@tollgate.test>"] });

  await page.context().clearCookies();
  await signIn(page, "manager@tollgate.test");
  await page.goto(`/certifications?campaign=${id}`);
  const rows = page.getByTestId("certification-table").locator('[data-testid="item-row"]');
  const revokable = rows.filter({ has: page.locator('[data-testid="recommendation"][data-decision="revoke"]') }).filter({ hasNotText: "· admin" });
  expect(await revokable.count()).toBeGreaterThan(1);

  // The sticky bar: progress and sign-off are on screen at the top of a long list, not at the end of the last page.
  const bar = page.getByTestId("certification-bar");
  await expect(bar).toBeInViewport();
  await expect(bar.getByTestId("progress-figure")).toContainText("0 /");
  await expect(bar.getByRole("button", { name: "Sign off" })).toBeDisabled();
  await shot(page, info, "certification-bar");

  // Keeping a risky item with no note: refused on its row, nothing sent, nothing written.
  const risky = revokable.first();
  const riskyId = await risky.getAttribute("data-item-id");
  await risky.getByRole("button", { name: "Keep", exact: true }).click();
  await expect(risky.getByTestId("item-note-error")).toContainText("needs one");
  await expect(risky.getByTestId("item-note")).toBeFocused();
  expect((await sql<{ decision: string | null }>(`SELECT decision::text FROM "CampaignItem" WHERE id = $1`, [riskyId]))[0].decision).toBeNull();
  // With a note it is kept, and the note is what is recorded.
  await risky.getByTestId("item-note").fill("Still needed for the quarterly close");
  await risky.getByRole("button", { name: "Keep", exact: true }).click();
  await expect(page.getByTestId("certify-message")).toHaveText("Item kept");
  expect((await sql<{ decision: string; justification: string }>(`SELECT decision::text, justification FROM "CampaignItem" WHERE id = $1`, [riskyId]))[0]).toEqual({ decision: "keep", justification: "Still needed for the quarterly close" });

  await expect(page.locator(`[data-item-id="${riskyId}"]`)).toHaveCount(0); // the pending list no longer holds it

  // One click on the recommendation revokes (no note needed), recorded as the accepted recommendation.
  const next = revokable.first();
  const nextId = await next.getAttribute("data-item-id");
  expect(nextId).not.toBe(riskyId);
  await next.getByTestId("recommendation").click();
  // Applied at once, or proposed where the two-person rule (configurable in Settings) covers the grant.
  await expect(page.getByTestId("certify-message")).toHaveText(/^(Item revoked|Revoke proposed)/);
  const [decided] = await sql<{ kind: string; justification: string }>(`SELECT kind::text, justification FROM "Decision" WHERE "campaignItemId" = $1 AND discard IS NULL`, [nextId]);
  expect(decided.kind).toBe("revoke");
  expect(decided.justification).toMatch(/^Accepted the recommendation to revoke \((dormant|never used)/);

  // The decided view shows the notes; its select-all is neither ticked nor usable.
  await page.goto(`/certifications?campaign=${id}&status=decided`);
  await expect(page.getByTestId("certification-table")).toContainText("Still needed for the quarterly close");
  const all = page.getByLabel("Select all on this page");
  await expect(all).not.toBeChecked();
  await expect(all).toBeDisabled();
  await shot(page, info, "certification-decided");
});
