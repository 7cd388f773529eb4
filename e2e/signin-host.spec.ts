import { expect, test, type Page, type TestInfo } from "@playwright/test";

// Issue 19, point 1: the first sign-in must work whichever loopback name the browser used,
// and a sign-in that did not stick says so on the form instead of showing it again, empty.

const DEMO_PASSWORD = "tollgate-demo";
const base = new URL(process.env.BASE_URL ?? "http://127.0.0.1:3999");

async function shot(page: Page, info: TestInfo, name: string) {
  await info.attach(name, { body: await page.screenshot({ fullPage: true }), contentType: "image/png" });
}

async function fillDemo(page: Page, email: string) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

test("signing in on the other loopback name lands signed in on the dashboard", async ({ page }, info) => {
  // The stack's public URL is 127.0.0.1; the browser comes in on localhost (the reverse of `npm start`'s default).
  const other = `http://localhost:${base.port}`;
  await page.goto(`${other}/signin?callbackUrl=%2Fgrants`);
  // Single sign-on is configured here, so the form is shown on the public URL's host (with the query kept).
  await expect(page).toHaveURL(`${base.origin}/signin?callbackUrl=%2Fgrants`);
  await shot(page, info, "signin-on-public-host");
  await fillDemo(page, "auditor@tollgate.test");
  await expect(page).toHaveURL(`${base.origin}/grants`);
  await expect(page.getByTestId("user-menu")).toBeVisible();
  await shot(page, info, "signed-in");
});

test("a sign-in whose cookie the browser did not keep is reported on the form", async ({ page }, info) => {
  // The credentials callback succeeds, but its Set-Cookie never reaches the cookie jar.
  await page.route("**/api/auth/callback/demo", async (route) => {
    const response = await route.fetch();
    // route.fetch() shares the browser's cookie jar, so the session cookie it set is dropped here too.
    await page.context().clearCookies({ name: /session-token/ });
    const headers = Object.fromEntries(response.headersArray().filter((h) => h.name.toLowerCase() !== "set-cookie").map((h) => [h.name, h.value]));
    await route.fulfill({ response, headers });
  });
  await page.goto("/signin");
  await fillDemo(page, "auditor@tollgate.test");
  // Next's route announcer is an (empty) alert too: look for ours.
  const alert = page.locator('p[role="alert"]');
  await expect(alert).toContainText("did not keep the session cookie");
  await expect(alert).toContainText(base.origin);
  await expect(page).toHaveURL(/\/signin/);
  await shot(page, info, "cookie-not-kept");
});

test("a wrong password is said on the form, which stays filled in", async ({ page }) => {
  await page.goto("/signin");
  await page.getByLabel("Email").fill("auditor@tollgate.test");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.locator('p[role="alert"]')).toHaveText("Wrong email or password.");
  await expect(page.getByLabel("Email")).toHaveValue("auditor@tollgate.test");
});
