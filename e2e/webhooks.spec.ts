import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { signIn, sql } from "./support/stack";

// Issue 22, point 3: an admin registers an outgoing webhook in Settings. A plain-http URL to
// another host is refused naming the field; a loopback one is added and its signing secret shown
// once; a delivery's status shows in the deliveries table.

test("an admin adds a webhook (validation names the field), sees its secret once and its deliveries' status", async ({ page }) => {
  const name = `soc-${randomUUID().slice(0, 8)}`;
  try {
    await signIn(page, "admin@tollgate.test");
    await page.goto("/settings");
    await page.getByRole("link", { name: "Webhooks" }).click();
    await expect(page.getByRole("heading", { name: "Webhooks", exact: true })).toBeVisible();

    await page.getByLabel("Name").fill(name);
    await page.getByLabel("URL").fill("http://hooks.example.com/tollgate");
    await page.getByLabel("anomaly").check();
    await page.getByRole("button", { name: "Add webhook" }).click();
    // (Next's route announcer is an alert too: match the message itself.)
    await expect(page.getByText("url: must use https:// (plain http:// only to 127.0.0.1, [::1] or localhost)")).toBeVisible();
    expect(await sql(`SELECT 1 FROM "WebhookEndpoint" WHERE name = $1`, [name])).toHaveLength(0);

    // React resets the form after the action: every field is filled again.
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("URL").fill("http://127.0.0.1:9/hook");
    await page.getByLabel("anomaly").check();
    await page.getByRole("button", { name: "Add webhook" }).click();
    await expect(page.getByTestId("webhook-secret")).toContainText("whsec_");
    await expect(page.getByTestId("webhooks-table").locator("tr", { hasText: name })).toContainText("anomaly");

    const [hook] = await sql<{ id: string }>(`SELECT id FROM "WebhookEndpoint" WHERE name = $1`, [name]);
    await sql(
      `INSERT INTO "OutboxItem" ("webhookId", "idempotencyKey", operation, payload, status, attempts, "appliedAt") VALUES ($1, $2, 'webhook anomaly', '{}', 'applied', 3, now())`,
      [hook.id, `anomaly:${randomUUID()}`],
    );
    await page.reload();
    const delivery = page.getByTestId("webhook-deliveries").locator("tr", { hasText: name });
    await expect(delivery).toContainText("delivered");
    await expect(delivery).toContainText("3");
  } finally {
    await sql(`DELETE FROM "WebhookEndpoint" WHERE name = $1`, [name]);
  }
});
