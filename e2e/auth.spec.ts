import pg from "pg";
import { expect, test, type Page } from "@playwright/test";
import { E2E_OIDC } from "./support/oidc-provider";

// Identity and trust, in real Chromium against the running app:
// OIDC sign-in through a real provider (PKCE + groups claim), demo sign-in,
// the session wall, security headers, the audit page's chain verification and
// service tokens.

const DEMO_PASSWORD = "tollgate-demo";
const DASHBOARD = /^https?:\/\/[^/]+\/$/;
const olivia = E2E_OIDC.users[0];

async function demoSignIn(page: Page, email: string, password = DEMO_PASSWORD) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

test("signs in through the OIDC provider with PKCE and gets the roles mapped from the groups claim", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin/);
  const authorize = page.waitForRequest((r) => r.url().startsWith(`http://127.0.0.1:${E2E_OIDC.port}/auth?`));
  await page.getByRole("button", { name: "Sign in with single sign-on" }).click();
  const url = new URL((await authorize).url());
  expect(url.searchParams.get("response_type")).toBe("code");
  expect(url.searchParams.get("code_challenge_method")).toBe("S256");
  expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(url.searchParams.get("state")).toBeTruthy();

  await expect(page.getByRole("heading", { name: "Test identity provider" })).toBeVisible();
  await page.getByLabel("Email").fill(olivia.email);
  await page.getByLabel("Password").fill(olivia.password);
  await page.getByRole("button", { name: "Continue" }).click();

  await expect(page).toHaveURL(DASHBOARD);
  const menu = page.getByTestId("user-menu");
  await expect(menu).toContainText(olivia.name);
  await expect(page.getByTestId("user-roles")).toHaveText("reviewer, auditor");

  // The session cookie is httpOnly and SameSite=Lax.
  const session = (await page.context().cookies()).find((c) => c.name.endsWith("next-auth.session-token"));
  expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax" });

  // Auditors see the audit log, which recorded this sign-in with the groups.
  await page.goto(`/audit?action=auth.signin&actor=${encodeURIComponent(olivia.email)}`);
  await expect(page.getByRole("cell", { name: "auth.signin" }).first()).toBeVisible();
  await expect(page.locator("tbody tr").first()).toContainText("tollgate-reviewers");

  // Roles come from the database on every request, not from the session cookie:
  // taking the auditor role away hides the audit log at once.
  const dbUrl = process.env.E2E_DATABASE_URL;
  if (dbUrl) {
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      await c.query(`UPDATE "User" SET roles = '{reviewer}' WHERE email = $1`, [olivia.email]);
    } finally {
      await c.end();
    }
    await page.reload();
    await expect(page.getByText("visible to admins and auditors only")).toBeVisible();
    await expect(page.getByTestId("user-roles")).toHaveText("reviewer");
  }

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin/);
});

test("an OIDC user whose groups map to no role is refused", async ({ page }) => {
  const nobody = E2E_OIDC.users[1];
  await page.goto("/signin");
  await page.getByRole("button", { name: "Sign in with single sign-on" }).click();
  await expect(page.getByRole("heading", { name: "Test identity provider" })).toBeVisible();
  await page.getByLabel("Email").fill(nobody.email);
  await page.getByLabel("Password").fill(nobody.password);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/signin\?error=NoRoles/);
  await expect(page.getByText("Your account has no Tollgate role")).toBeVisible();
});

test("demo sign-in: a wrong password is refused, the right one lands on the dashboard", async ({ page }) => {
  await demoSignIn(page, "reviewer@tollgate.test", "wrong-password");
  await expect(page.getByText("Wrong email or password.")).toBeVisible();
  await demoSignIn(page, "reviewer@tollgate.test");
  await expect(page).toHaveURL(DASHBOARD);
  await expect(page.getByTestId("user-roles")).toHaveText("reviewer");
  // Reviewers do not see the audit log or service tokens.
  await page.goto("/audit");
  await expect(page.getByText("visible to admins and auditors only")).toBeVisible();
  await page.goto("/settings/tokens");
  await expect(page.getByText("managed by admins only")).toBeVisible();
});

test("pages need a session; responses carry the security headers", async ({ page, request }) => {
  const res = await request.get("/audit", { maxRedirects: 0 });
  expect([302, 303, 307]).toContain(res.status());
  expect(res.headers()["location"]).toMatch(/\/signin/);
  const signin = await request.get("/signin");
  const h = signin.headers();
  expect(h["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(h["content-security-policy"]).not.toContain("unsafe-eval");
  expect(h["x-frame-options"]).toBe("DENY");
  expect(h["x-content-type-options"]).toBe("nosniff");
  expect(h["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  expect(h["strict-transport-security"]).toBeUndefined(); // plain http here
  await page.goto("/settings/tokens");
  await expect(page).toHaveURL(/\/signin/);
});

test("admin creates a service token (shown once) and revokes it; both are audited", async ({ page }) => {
  await demoSignIn(page, "admin@tollgate.test");
  await expect(page).toHaveURL(DASHBOARD);
  await page.goto("/settings/tokens");
  const name = `e2e-token-${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("usage:ingest").check();
  await page.getByRole("button", { name: "Create token" }).click();
  const token = await page.getByTestId("new-token").textContent();
  expect(token).toMatch(/^tgs_/);
  const row = page.locator("tr", { hasText: name });
  await expect(row).toContainText("usage:ingest");
  await expect(row).toContainText("active");
  await page.reload();
  await expect(page.getByTestId("new-token")).toHaveCount(0); // never shown again
  page.once("dialog", (d) => void d.accept());
  await page.locator("tr", { hasText: name }).getByRole("button", { name: "Revoke" }).click();
  await expect(page.locator("tr", { hasText: name })).toContainText("revoked");
  await page.goto(`/audit?action=service_token.revoke`);
  await expect(page.locator("tbody")).toContainText(name);
});

test("tampering with an audit row in the database is pointed out by the Audit page", async ({ page }) => {
  await demoSignIn(page, "auditor@tollgate.test");
  await expect(page).toHaveURL(DASHBOARD);
  await page.goto("/audit");
  await page.getByRole("link", { name: "Verify chain" }).click();
  await expect(page.getByTestId("chain-status")).toContainText("Chain intact");

  const dbUrl = process.env.E2E_DATABASE_URL;
  test.skip(!dbUrl, "E2E_DATABASE_URL is not set (the e2e runner sets it)");
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const { rows } = await c.query(`SELECT seq::text, id, action FROM "AuditEvent" WHERE action = 'auth.signin' ORDER BY seq LIMIT 1`);
    const victim = rows[0] as { seq: string; id: string; action: string };
    // As the database superuser, bypassing the append-only trigger.
    await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`);
    const original = await c.query(`SELECT actor FROM "AuditEvent" WHERE id = $1`, [victim.id]);
    await c.query(`UPDATE "AuditEvent" SET actor = 'mallory@evil.test' WHERE id = $1`, [victim.id]);
    try {
      await page.reload();
      const status = page.getByTestId("chain-status");
      await expect(status).toContainText(`Chain broken at event #${victim.seq}`);
      await expect(status).toContainText(victim.id);
      await expect(status).toContainText("auth.signin");
    } finally {
      // Put it back so later specs see an intact chain.
      await c.query(`UPDATE "AuditEvent" SET actor = $2 WHERE id = $1`, [victim.id, original.rows[0].actor]);
      await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER USER`);
    }
  } finally {
    await c.end();
  }
});
