import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { signIn, sql } from "./support/stack";
import { checkNoHorizontalScroll, shot } from "./support/layout";

// Issue 19, points 9 and 11 (outside the review queue): Settings for the two-person rule, proxies
// with "test connection" and a grey "never contacted", "Add API" on /apis with typed confirmation
// of deprecations, and the navigation polish.

test.describe.configure({ mode: "serial" });

test("an admin changes the two-person rule on Settings; it is stored and audited", async ({ page }, info) => {
  await signIn(page, "admin@tollgate.test");
  await page.goto("/settings");
  const form = page.getByTestId("two-person-rule");
  const before = await sql<{ value: unknown }>(`SELECT value FROM "Setting" WHERE key = 'twoPersonRule'`);
  try {
    await form.getByLabel("write").check();
    await form.getByLabel("Environments").fill("production, staging");
    await form.getByRole("button", { name: "Save two-person rule" }).click();
    await expect(page.getByRole("status")).toContainText("now need a second reviewer");
    const [row] = await sql<{ value: { enabled: boolean; levels: string[]; environments: string[] } }>(`SELECT value FROM "Setting" WHERE key = 'twoPersonRule'`);
    expect(row.value.enabled).toBe(true);
    expect(row.value.levels).toContain("write");
    expect(row.value.environments).toEqual(["production", "staging"]);
    const [audit] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "AuditEvent" WHERE action = 'settings.update' AND target = 'settings:twoPersonRule'`);
    expect(audit.n).toBeGreaterThan(0);
    await checkNoHorizontalScroll(page, info, "settings");
  } finally {
    // Put the rule back for the specs that follow, whatever happened above.
    if (before.length) await sql(`UPDATE "Setting" SET value = $1 WHERE key = 'twoPersonRule'`, [JSON.stringify(before[0].value)]);
    else await sql(`DELETE FROM "Setting" WHERE key = 'twoPersonRule'`);
  }
});

test("a proxy that never answered is grey 'never contacted'; Test connection says what the proxy answered", async ({ page }, info) => {
  const [env] = await sql<{ id: string }>(`SELECT id FROM "Environment" ORDER BY name LIMIT 1`);
  const name = `never-${randomUUID().slice(0, 8)}`;
  await sql(`INSERT INTO "Proxy" (id, name, "adminUrl", "adminToken", "environmentId") VALUES (gen_random_uuid(), $1, 'http://127.0.0.1:9', $2, $3)`, [name, "t".repeat(32), env.id]);
  try {
    await signIn(page, "admin@tollgate.test");
    await page.goto("/settings/proxies");
    const row = page.getByTestId("proxies-table").locator("tr", { hasText: name });
    await expect(row.getByText("never contacted")).toBeVisible();
    await expect(row.getByText("ok", { exact: true })).toHaveCount(0);
    await row.getByRole("button", { name: "Test connection" }).click();
    await expect(row.getByTestId("proxy-test-result")).toContainText("No answer from http://127.0.0.1:9");
    // The stack's real proxy answers with its state.
    const e2e = page.getByTestId("proxies-table").locator("tr", { hasText: "e2e" }).first();
    await e2e.getByRole("button", { name: "Test connection" }).click();
    await expect(e2e.getByTestId("proxy-test-result")).toContainText(/Connected: revision \d+, ready/);
    // Edit: a rename is stored (and put back).
    await row.getByRole("button", { name: "Edit" }).click();
    await row.getByLabel("Name").fill(`${name}-x`);
    await row.getByRole("button", { name: "Save proxy" }).click();
    await expect(page.getByText(`Proxy ${name}-x saved`)).toBeVisible();
    expect(await sql(`SELECT 1 FROM "Proxy" WHERE name = $1`, [`${name}-x`])).toHaveLength(1);
    await checkNoHorizontalScroll(page, info, "proxies");
  } finally {
    await sql(`DELETE FROM "Proxy" WHERE name IN ($1, $2)`, [name, `${name}-x`]);
  }
});

test("a proxy unreachable past the setting is 'degraded'; an admin deregisters it after confirming, audited", async ({ page }) => {
  const [env] = await sql<{ id: string }>(`SELECT id FROM "Environment" ORDER BY name LIMIT 1`);
  const name = `down-${randomUUID().slice(0, 8)}`;
  // Last good answer 10 minutes ago, failing since: past the default of 5 minutes.
  await sql(
    `INSERT INTO "Proxy" (id, name, "adminUrl", "adminToken", "environmentId", "lastSyncAt", "lastRevision", "lastError")
     VALUES (gen_random_uuid(), $1, 'http://127.0.0.1:9', $2, $3, now() - interval '10 minutes', 7, 'connect ECONNREFUSED 127.0.0.1:9')`,
    [name, "t".repeat(32), env.id],
  );
  try {
    await signIn(page, "admin@tollgate.test");
    await page.goto("/settings/proxies");
    const row = page.getByTestId("proxies-table").locator("tr", { hasText: name });
    await expect(row.getByTestId("proxy-health")).toHaveAttribute("data-health", "degraded");
    await expect(row).toContainText("unreachable since");
    await expect(row).toContainText("up to date");
    // The first click only asks; Cancel leaves it registered.
    await row.getByRole("button", { name: "Deregister" }).click();
    await expect(row.getByRole("group", { name: `Confirm deregistering ${name}` })).toContainText("0 undelivered decisions will be dropped");
    await row.getByRole("button", { name: "Cancel" }).click();
    expect(await sql(`SELECT 1 FROM "Proxy" WHERE name = $1`, [name])).toHaveLength(1);
    await row.getByRole("button", { name: "Deregister" }).click();
    await row.getByRole("button", { name: "Confirm deregister" }).click();
    // The row (with its form) goes once the page is revalidated.
    await expect(row).toHaveCount(0);
    expect(await sql(`SELECT 1 FROM "Proxy" WHERE name = $1`, [name])).toHaveLength(0);
    const [audit] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "AuditEvent" WHERE action = 'proxy.delete' AND data->>'name' = $1`, [name]);
    expect(audit.n).toBe(1);
  } finally {
    await sql(`DELETE FROM "Proxy" WHERE name = $1`, [name]);
  }
});

test("Add API imports a description for a new API; deprecating endpoints that hold grants needs the API's name typed", async ({ page }, info) => {
  await signIn(page, "admin@tollgate.test");
  await page.goto("/apis");
  await page.getByText("Add API", { exact: true }).click();
  const upload = page.getByTestId("openapi-upload");
  const name = `added-${randomUUID().slice(0, 8)}`;
  await upload.getByLabel("API name").fill(name);
  await upload.getByLabel("Environment").selectOption("production");
  const doc = `openapi: 3.0.3\ninfo: { title: Added, version: "1" }\nservers: [ { url: "http://127.0.0.1:9/added" } ]\npaths:\n  /ping:\n    get:\n      security: []\n      responses: { "200": { description: ok } }\n`;
  await upload.getByLabel("OpenAPI file").setInputFiles({ name: "added.yaml", mimeType: "application/yaml", buffer: Buffer.from(doc) });
  await upload.getByRole("button", { name: "Show changes" }).click();
  await expect(upload).toContainText(`A new API “${name}” will be created in production`);
  await shot(page, info, "add-api-diff");
  await upload.getByRole("button", { name: "Apply" }).click();
  await expect(upload.getByRole("status")).toContainText("1 endpoints added");
  expect(await sql(`SELECT 1 FROM "Api" a JOIN "Environment" e ON e.id = a."environmentId" WHERE a.name = $1 AND e.name = 'production'`, [name])).toHaveLength(1);

  // An API whose endpoints hold active grants: a description without them would deprecate them.
  const [held] = await sql<{ id: string; name: string }>(
    `SELECT a.id, a.name FROM "Api" a JOIN "Scope" s ON s."apiId" = a.id JOIN "Grant" g ON g."scopeId" = s.id AND g.status = 'active'
     JOIN "EndpointScope" es ON es."scopeId" = s.id GROUP BY a.id ORDER BY count(*) DESC LIMIT 1`,
  );
  await page.goto(`/apis/${held.id}`);
  const other = page.getByTestId("openapi-upload");
  const empty = `openapi: 3.0.3\ninfo: { title: Empty, version: "2" }\npaths: {}\n`;
  await other.getByLabel("OpenAPI file").setInputFiles({ name: "empty.yaml", mimeType: "application/yaml", buffer: Buffer.from(empty) });
  await other.getByRole("button", { name: "Show changes" }).click();
  const confirm = other.getByLabel("Type the API name to confirm");
  await expect(confirm).toBeVisible();
  const apply = other.getByRole("button", { name: "Apply" });
  await expect(apply).toBeDisabled();
  await confirm.fill("not the name");
  await expect(apply).toBeDisabled();
  await confirm.fill(held.name);
  await expect(apply).toBeEnabled();
  await shot(page, info, "deprecation-typed-confirmation");
  // Not applied: other specs use this API.
  await other.getByRole("button", { name: "Cancel" }).click();
  await page.goto("/apis");
  await checkNoHorizontalScroll(page, info, "apis");
});

test("navigation: one current entry on /settings/tokens, and Discovery is called Discovery", async ({ page }, info) => {
  await signIn(page, "admin@tollgate.test");
  await page.goto("/settings/tokens");
  const current = page.getByRole("navigation", { name: "Main" }).locator('[aria-current="page"]');
  await expect(current).toHaveCount(1);
  await expect(current).toHaveText("Service tokens");
  await page.goto("/settings");
  await expect(current).toHaveText("Settings");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Discovery" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Discovery");
  await checkNoHorizontalScroll(page, info, "discovery");
  // Labels made from enum values keep no underscore (grants' principal-kind filter, the campaigns list).
  await page.goto("/grants");
  expect((await page.locator("select option").allInnerTexts()).filter((t) => t.includes("_"))).toEqual([]);
});
