import { createHash, randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { signIn, sql } from "./support/stack";

// An admin uploads a Kong declarative file on "Import access", reads the plan
// with its risk summary (nothing written yet), applies it, and finds the
// consumers, their keys (by display prefix only) and the public endpoint in the
// inventory; the real proxy then accepts an imported key sent the Kong way
// (apikey header). Non-admin roles are refused (403) and nothing changes.
const PROXY = process.env.E2E_PROXY_URL!;
const UPSTREAM = process.env.E2E_UPSTREAM_URL!;

const sfx = [...randomBytes(6)].map((b) => String.fromCharCode(97 + (b % 26))).join("");
const aliceKey = `kong-${randomBytes(12).toString("hex")}`;
const bobKey = `kong-${randomBytes(12).toString("hex")}`;
const KONG = `_format_version: "3.0"
services:
  - name: k${sfx}-orders
    url: ${UPSTREAM}
    routes:
      - name: k${sfx}-orders-route
        paths: [/k${sfx}-orders]
    plugins:
      - name: key-auth
      - name: acl
        config: { allow: [gold] }
  - name: k${sfx}-status
    url: ${UPSTREAM}
    routes:
      - name: k${sfx}-status-route
        paths: [/k${sfx}-status]
consumers:
  - username: c${sfx}-alice
    keyauth_credentials: [{ key: ${aliceKey} }]
    acls: [{ group: gold }]
  - username: c${sfx}-bob
keyauth_credentials:
  - consumer: c${sfx}-bob
    key: ${bobKey}
`;
const file = { name: "kong.yml", mimeType: "application/yaml", buffer: Buffer.from(KONG) };
const prefixOf = (key: string) => `kong_${createHash("sha256").update(key).digest("hex").slice(0, 8)}`;

test("admin uploads a Kong file, reads the plan and its risks, applies it, and finds it in the inventory", async ({ page }) => {
  // One long flow (upload, plan, apply, three inventory pages, delivery to the real proxy): on a busy machine it
  // took over the default 60 s (1.2 min at load 39) while every step was still progressing.
  test.slow();
  const [env] = await sql<{ name: string }>(`SELECT e.name FROM "Environment" e JOIN "Proxy" p ON p."environmentId" = e.id ORDER BY e.name LIMIT 1`);
  await signIn(page, "admin@tollgate.test");
  await page.goto("/imports");
  const upload = page.getByTestId("access-upload");
  await upload.getByLabel("Kong file").setInputFiles(file);
  await upload.getByLabel("Environment").selectOption(env.name);
  await upload.getByRole("button", { name: "Show plan" }).click();

  const plan = page.getByTestId("access-plan");
  await expect(plan.getByRole("table", { name: "Plan" })).toContainText("Consumers2");
  const risk = page.getByTestId("risk-summary");
  await expect(risk).toContainText("Routes that accept requests with no key: 6");
  await expect(risk).toContainText(`/k${sfx}-status/…`);
  await expect(risk).toContainText("Keys with no expiry: 2");
  await expect(risk).toContainText("Consumers with no owner: 2");
  await expect(plan).toContainText(`+ Keys: ${prefixOf(aliceKey)} (c${sfx}-alice)`);
  await expect(page.locator("body")).not.toContainText(aliceKey);
  expect(await sql(`SELECT 1 FROM "Principal" WHERE "displayName" LIKE $1`, [`c${sfx}-%`])).toHaveLength(0); // the plan wrote nothing

  await plan.getByRole("button", { name: "Apply" }).click();
  await expect(upload.getByRole("status")).toContainText("Applied: 2 consumers created, 2 keys created");

  // The consumers and their keys (display prefix only) in the inventory.
  const [alice] = await sql<{ id: string }>(`SELECT id FROM "Principal" WHERE "displayName" = $1`, [`c${sfx}-alice`]);
  await page.goto(`/principals/${alice.id}`);
  await expect(page.getByTestId("principal-credentials")).toContainText(prefixOf(aliceKey));
  await expect(page.locator("body")).not.toContainText(aliceKey);
  await page.goto(`/grants?q=c${sfx}`);
  await expect(page.locator("main")).toContainText(`c${sfx}-alice`);
  // The route without authentication is listed as public, never as protected.
  const [status] = await sql<{ id: string }>(`SELECT id FROM "Api" WHERE name = $1`, [`k${sfx}-status`]);
  await page.goto(`/apis/${status.id}`);
  await expect(page.getByTestId("endpoints-table")).toContainText("public");

  // The real proxy takes the imported key where Kong clients send it, once the import's outbox row is delivered.
  await expect
    .poll(async () => (await fetch(`${PROXY}/k${sfx}-orders/items`, { headers: { apikey: aliceKey } })).status, { timeout: 30_000 })
    .toBe(200);
  expect((await fetch(`${PROXY}/k${sfx}-orders/items`, { headers: { apikey: bobKey } })).status).toBe(403); // bob holds no group
  expect((await fetch(`${PROXY}/k${sfx}-orders/items`)).status).toBe(401);
});

for (const role of ["reviewer", "manager", "auditor"]) {
  test(`${role} cannot import access (403) and nothing changes`, async ({ page }) => {
    test.slow(); // sign-in, a page and two requests took over 60 s at load 44
    const [env] = await sql<{ name: string }>(`SELECT e.name FROM "Environment" e ORDER BY e.name LIMIT 1`);
    const before = await sql<{ n: string }>(`SELECT (SELECT count(*) FROM "Principal") + (SELECT count(*) FROM "Credential") + (SELECT count(*) FROM "Grant") + (SELECT count(*) FROM "Api") + (SELECT count(*) FROM "AuditEvent" WHERE action = 'inventory.access_import') AS n`);
    await signIn(page, `${role}@tollgate.test`);
    await page.goto("/imports");
    await expect(page.getByText("Importing access is for admins only.")).toBeVisible();
    await expect(page.getByTestId("access-upload")).toHaveCount(0);
    for (const q of ["dryRun=1", "dryRun=0"]) {
      const res = await page.request.post(`/api/v1/imports/access?env=${encodeURIComponent(env.name)}&${q}`, { multipart: { file } });
      expect(res.status()).toBe(403);
    }
    const after = await sql<{ n: string }>(`SELECT (SELECT count(*) FROM "Principal") + (SELECT count(*) FROM "Credential") + (SELECT count(*) FROM "Grant") + (SELECT count(*) FROM "Api") + (SELECT count(*) FROM "AuditEvent" WHERE action = 'inventory.access_import') AS n`);
    expect(after[0].n).toBe(before[0].n);
  });
}
