import { expect, test } from "@playwright/test";
import { signIn, sql } from "./support/stack";

// Issue 22, point 4, in the browser: an admin defines a policy, sees its dry run,
// enables it; the manager sees the notices on their team's access and objects to
// one with a reason; the admin sees the objection on the policy's items.
// (Execution and rollback need the notice period to pass: lib/remediation/remediation.test.ts
// drives that with a controllable clock against the real proxy.)

const CANDIDATES = `SELECT count(*)::int AS n FROM "Grant" g JOIN "Environment" e ON e.id = g."environmentId"
  WHERE g.status = 'active' AND e.tier <> 'production' AND coalesce(g."lastUsedAt", g."grantedAt") < now() - interval '30 days'`;

test("define, preview and enable a policy; the manager objects to a notice; the admin sees it", async ({ page, browser }) => {
  // Two users, a policy over the whole demo inventory (hundreds of notices): more than the default 60 s on a loaded machine.
  test.slow();
  const name = `Unused non-production ${Date.now()}`;
  let policyId = "";
  try {
    await signIn(page, "admin@tollgate.test");
    await page.goto("/settings/policies");
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Rule").selectOption("revoke_unused_grants");
    await page.getByLabel(/^Days/).fill("30");
    await page.getByRole("button", { name: "Create draft" }).click();
    await expect(page.getByText(`Draft "${name}" created`)).toBeVisible();
    await page.getByRole("link", { name }).click();
    [{ id: policyId }] = await sql<{ id: string }>(`SELECT id FROM "RemediationPolicy" WHERE name = $1`, [name]);

    // The dry run: the same count as the rule in SQL, and nothing written.
    const [{ n }] = await sql<{ n: number }>(CANDIDATES);
    expect(n).toBeGreaterThan(0);
    await expect(page.getByTestId("policy-preview")).toContainText(`it would notice ${n} item`);
    expect((await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "RemediationItem" WHERE "policyId" = $1`, [policyId]))[0].n).toBe(0);

    await page.getByRole("button", { name: `Enable (notify ${n} now)` }).click();
    await expect(page.getByText(`Enabled. ${n} item`)).toBeVisible();
    await page.reload();
    await expect(page.getByTestId("policy-items").locator("tbody tr").first()).toContainText("noticed");

    // Morgan manages the Checkout team: their notices, and an objection.
    const [{ mine }] = await sql<{ mine: number }>(
      `SELECT count(*)::int AS mine FROM "RemediationItem" i JOIN "Principal" p ON p.id = i."principalId"
       JOIN "User" u ON u.email = 'manager@tollgate.test' WHERE i."policyId" = $1 AND (p."managerId" = u."principalId" OR p.id = u."principalId")`,
      [policyId],
    );
    expect(mine).toBeGreaterThan(0);
    const context = await browser.newContext();
    const manager = await context.newPage();
    await signIn(manager, "manager@tollgate.test");
    await manager.goto("/remediation");
    const rows = manager.getByTestId("remediation-notices").locator("tbody tr");
    await expect(rows).toHaveCount(mine);
    const reason = "Still needed for the staging load test next sprint";
    await rows.first().getByLabel("Why is it still needed?").fill(reason);
    await rows.first().getByRole("button", { name: "Object" }).click();
    // The row now shows the objection in place of the form.
    await expect(rows.first()).toContainText(`Objected: ${reason}`);
    await context.close();

    await page.reload();
    await expect(page.getByTestId("policy-items")).toContainText(reason);
    const [f] = await sql<{ status: string }>(
      `SELECT f.status::text AS status FROM "RemediationItem" i JOIN "Finding" f ON f.id = i."findingId" WHERE i."policyId" = $1 AND i.status = 'objected'`,
      [policyId],
    );
    expect(f.status).toBe("open");
  } finally {
    // Leave the shared demo database as it was for the specs that follow.
    if (policyId) {
      await sql(`DELETE FROM "Finding" WHERE id IN (SELECT "findingId" FROM "RemediationItem" WHERE "policyId" = $1 AND "findingId" IS NOT NULL)`, [policyId]);
      await sql(`DELETE FROM "RemediationPolicy" WHERE id = $1`, [policyId]);
    }
    await sql(`DELETE FROM "Notification" WHERE kind LIKE 'remediation.%'`);
  }
});
