import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { expect, test, type Page } from "@playwright/test";
import { csvObjects } from "../test/support/csv";
import { createAndLaunchCampaign, sql } from "./support/stack";

// Issue 7 acceptance (evidence part): an auditor downloads the campaign report as
// CSV, JSON and PDF from /reports in a real browser; the files are checked
// against the database, the PDF is read back with pdftotext, and each file's
// SHA-256 matches the one listed under "Past exports". Runs after
// campaigns.spec.ts when the whole suite runs (its campaign has decisions
// enforced by the proxy); alone, it launches a campaign of its own first.

async function signIn(page: Page, email: string) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("tollgate-demo");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL((u) => u.pathname === "/", { timeout: 30_000 });
}

/** Clicks a download button and returns the file's bytes and suggested name. */
async function download(page: Page, button: string): Promise<{ bytes: Buffer; name: string; path: string }> {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: button }).click()]);
  const path = await dl.path();
  return { bytes: await readFile(path), name: dl.suggestedFilename(), path };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function launchedCampaign(page: Page): Promise<string> {
  const existing = await sql<{ id: string }>(`SELECT id FROM "Campaign" WHERE status <> 'draft' ORDER BY "launchedAt" DESC LIMIT 1`);
  if (existing.length > 0) return existing[0].id;
  const name = `Reports e2e ${Date.now()}`;
  await signIn(page, "admin@tollgate.test");
  const id = await createAndLaunchCampaign(page, { name, team: "Checkout", environment: "production" });
  await page.context().clearCookies();
  return id;
}

test("an auditor downloads the campaign report as CSV, JSON and PDF; contents, figures and hashes match", async ({ page }) => {
  test.setTimeout(120_000);
  const campaignId = await launchedCampaign(page);
  await signIn(page, "auditor@tollgate.test");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).click();
  await page.getByRole("link", { name: "Campaign report" }).click();
  await page.locator('select[name="campaignId"]').selectOption(campaignId);

  const items = await sql<{ id: string; decision: string | null; teamName: string | null }>(
    `SELECT id, decision::text AS decision, "teamName" FROM "CampaignItem" WHERE "campaignId" = $1`,
    [campaignId],
  );
  expect(items.length).toBeGreaterThan(0);

  // CSV: one row per item, and each revoke carries the proxy's acknowledgement as the database has it.
  const csv = await download(page, "Download CSV");
  expect(csv.name).toMatch(/^tollgate-campaign-.*\.csv$/);
  const rows = csvObjects(csv.bytes.toString("utf8"));
  expect(rows.map((r) => r["Item id"]).sort()).toEqual(items.map((i) => i.id).sort());
  const enforced = await sql<{ itemId: string; enforcement: string; revisions: string | null }>(
    `SELECT d."campaignItemId" AS "itemId", d.enforcement::text AS enforcement,
            (SELECT string_agg(px.name || '@' || coalesce(o."appliedRevision"::text, o.status::text), '; ' ORDER BY px.name)
               FROM "OutboxItem" o JOIN "Proxy" px ON px.id = o."proxyId" WHERE o."decisionId" = d.id) AS revisions
       FROM "Decision" d JOIN "CampaignItem" i ON i.id = d."campaignItemId" WHERE i."campaignId" = $1`,
    [campaignId],
  );
  for (const e of enforced) {
    const row = rows.find((r) => r["Item id"] === e.itemId)!;
    expect(row.Enforcement).toBe(e.enforcement);
    expect(row["Proxy revisions"]).toBe(e.revisions ?? "");
  }

  // JSON: the same items, with the export id the record carries.
  const json = await download(page, "Download JSON");
  const doc = JSON.parse(json.bytes.toString("utf8")) as { exportId: string; rowCount: number; rows: { itemId: string; decision: string | null }[] };
  expect(doc.rowCount).toBe(items.length);
  expect(doc.rows.map((r) => r.itemId).sort()).toEqual(items.map((i) => i.id).sort());

  // PDF: text, and its figures are the database's.
  const pdf = await download(page, "Download PDF");
  expect(pdf.bytes.subarray(0, 5).toString()).toBe("%PDF-");
  const { stdout } = await promisify(execFile)("pdftotext", ["-layout", pdf.path, "-"]);
  const text = stdout.replace(/[ \t]+/g, " ");
  const decided = items.filter((i) => i.decision !== null).length;
  expect(text).toContain(`Items ${items.length}`);
  expect(text).toContain(`Decided ${decided}`);
  expect(text).toContain(`Completion (%) ${Math.round((decided / items.length) * 1000) / 10}`);
  for (const kind of ["keep", "revoke", "reduce"]) {
    const n = items.filter((i) => i.decision === kind).length;
    if (n > 0) expect(text).toContain(`${kind} ${n}`);
  }
  if (items.length > decided) expect(text).toContain(`undecided ${items.length - decided}`);
  const [campaign] = await sql<{ snapshotSha256: string }>(`SELECT "snapshotSha256" FROM "Campaign" WHERE id = $1`, [campaignId]);
  expect(text).toContain(`Snapshot SHA-256: ${campaign.snapshotSha256}`);

  // Every download is on record with the SHA-256 of the bytes received, and listed on the page.
  const records = await sql<{ format: string; sha256: string; status: string; actor: string; id: string }>(
    `SELECT format, sha256, status::text AS status, actor, id FROM "ReportExport" WHERE report = 'campaign' AND filters->>'campaignId' = $1 ORDER BY "startedAt" DESC LIMIT 3`,
    [campaignId],
  );
  const byFormat = Object.fromEntries(records.map((r) => [r.format, r]));
  expect(byFormat.csv).toMatchObject({ status: "completed", sha256: sha(csv.bytes), actor: "auditor@tollgate.test" });
  expect(byFormat.json).toMatchObject({ status: "completed", sha256: sha(json.bytes), id: doc.exportId });
  expect(byFormat.pdf).toMatchObject({ status: "completed", sha256: sha(pdf.bytes) });
  await page.reload();
  const listed = page.getByRole("table", { name: "Past exports" });
  for (const b of [csv.bytes, json.bytes, pdf.bytes]) await expect(listed.getByText(sha(b), { exact: true })).toBeVisible();
  const events = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "AuditEvent" WHERE action = 'report.export_completed' AND target = ANY($1)`, [records.map((r) => `report_export:${r.id}`)]);
  expect(events[0].n).toBe(3);
});

test("the access inventory as of today matches the database's active grants; a reviewer has no Reports page", async ({ page, browser }) => {
  await signIn(page, "auditor@tollgate.test");
  await page.goto("/reports?report=inventory");
  await page.getByLabel("Environment").selectOption("production");
  const csv = await download(page, "Download CSV");
  const ids = csvObjects(csv.bytes.toString("utf8")).map((r) => r["Grant id"]);
  const active = await sql<{ id: string }>(
    `SELECT g.id FROM "Grant" g JOIN "Environment" e ON e.id = g."environmentId"
      WHERE e.name = 'production' AND g."grantedAt" <= now() AND (g."revokedAt" IS NULL OR g."revokedAt" > now()) AND (g."expiresAt" IS NULL OR g."expiresAt" > now())`,
  );
  expect(new Set(ids)).toEqual(new Set(active.map((a) => a.id)));

  const other = await browser.newPage();
  await signIn(other, "reviewer@tollgate.test");
  await expect(other.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" })).toHaveCount(0);
  const res = await other.request.get("/api/v1/reports/inventory?format=csv");
  expect(res.status()).toBe(403);
  await other.close();
});
