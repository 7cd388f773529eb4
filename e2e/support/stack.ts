import { createHash, randomBytes, randomUUID } from "node:crypto";
import { expect, type Page } from "@playwright/test";
import pg from "pg";

// Shared by the specs that drive the whole stack (review, SoD, campaigns, reports,
// outside): e2e/support/run-e2e.ts passes E2E_DATABASE_URL, E2E_PROXY_URL,
// E2E_PROXY_ADMIN_URL and E2E_PROXY_ADMIN_TOKEN.

export const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run the e2e suite through e2e/support/run-e2e.ts`);
  return v;
};

/**
 * Stops or starts the dashboard process (the proxy, upstream and database keep running);
 * resolves once it is really down or serving again (e2e/support/run-e2e.ts, startControl).
 */
export async function dashboard(op: "stop" | "start"): Promise<void> {
  const r = await fetch(`${env("E2E_CONTROL_URL")}/dashboard/${op}`, { method: "POST", headers: { authorization: `Bearer ${env("E2E_CONTROL_TOKEN")}` } });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`dashboard ${op}: ${r.status} ${text}`);
}

export async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: env("E2E_DATABASE_URL") });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Gives a principal a fresh API key, in the database and on the proxy (as a key rotation would). */
export async function issueKey(externalId: string): Promise<string> {
  const key = `tg_live_e2e_${randomBytes(16).toString("hex")}`;
  const hash = createHash("sha256").update(key).digest("hex");
  const id = randomUUID();
  const [p] = await sql<{ id: string }>(`SELECT id FROM "Principal" WHERE "externalId" = $1`, [externalId]);
  await sql(`INSERT INTO "Credential" (id, "principalId", prefix, hash, "createdAt") VALUES ($1, $2, $3, $4, now())`, [id, p.id, key.slice(0, 12), hash]);
  const res = await fetch(`${env("E2E_PROXY_ADMIN_URL")}/admin/v1/credentials/${id}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${env("E2E_PROXY_ADMIN_TOKEN")}`, "content-type": "application/json" },
    body: JSON.stringify({ idempotencyKey: `e2e-cred-${id}`, value: { id, principalId: p.id, hash, expiresAt: null } }),
  });
  expect(res.status).toBe(200);
  return key;
}

/** A concrete path on the proxy for an endpoint of `api` (production) that accepts `scope`. */
export async function pathFor(api: string, scope: string, method: string, excludeScope?: string): Promise<string> {
  const rows = await sql<{ pathTemplate: string }>(
    `SELECT e."pathTemplate" FROM "Endpoint" e
       JOIN "Api" a ON a.id = e."apiId" JOIN "Environment" env ON env.id = a."environmentId"
       JOIN "EndpointScope" es ON es."endpointId" = e.id JOIN "Scope" s ON s.id = es."scopeId"
     WHERE env.tier = 'production' AND a.name = $1 AND s.name = $2 AND e.method = $3 AND NOT e.public
       AND ($4::text IS NULL OR NOT EXISTS (SELECT 1 FROM "EndpointScope" x JOIN "Scope" xs ON xs.id = x."scopeId" WHERE x."endpointId" = e.id AND xs.name = $4))
     ORDER BY e."pathTemplate" LIMIT 1`,
    [api, scope, method, excludeScope ?? null],
  );
  expect(rows.length, `an endpoint of ${api} accepting ${scope}`).toBe(1);
  return `/${api}${rows[0].pathTemplate.replace(/\{[^}]+\}/g, "e2e-1")}`;
}

export async function through(method: string, path: string, key: string): Promise<number> {
  const r = await fetch(`${env("E2E_PROXY_URL")}${path}`, { method, headers: { "x-api-key": key, "content-type": "application/json" }, body: method === "GET" ? undefined : "{}" });
  await r.arrayBuffer();
  return r.status;
}

/** Polls the proxy until it answers `status` for the key; returns the ms it took. */
export async function untilStatus(method: string, path: string, key: string, status: number, timeoutMs = 5_000): Promise<number> {
  const start = Date.now();
  for (;;) {
    if ((await through(method, path, key)) === status) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`${method} ${path} did not answer ${status} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function signIn(page: Page, email: string) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("tollgate-demo");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/^https?:\/\/[^/]+\/$/, { timeout: 30_000 });
}

/**
 * Opens the page's keyboard-shortcut help with "?" and closes it with Escape. The shortcuts listen
 * once the page has hydrated, which on a busy machine can be after the first key press: press "?"
 * again (only while the help is still closed, since it toggles) until it opens.
 */
export async function shortcutsReady(page: Page) {
  const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(async () => {
    if (!(await help.isVisible())) await page.keyboard.press("?");
    await expect(help).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await page.keyboard.press("Escape");
  await expect(help).toBeHidden();
}

export async function ensureAnalysed(page: Page) {
  const [{ n }] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "AnalysisRun" WHERE status = 'succeeded'`);
  if (n > 0) return;
  await page.goto("/queues");
  await page.getByRole("button", { name: "Run analysis now" }).click();
  await expect(page.getByTestId("analysis-status")).toContainText("succeeded", { timeout: 60_000 });
}

export const displayName = async (externalId: string) =>
  (await sql<{ displayName: string }>(`SELECT "displayName" FROM "Principal" WHERE "externalId" = $1`, [externalId]))[0].displayName;

export interface CampaignForm {
  name: string;
  team: string;
  environment: string;
  /** An API option's label, e.g. "orders (production)"; all of the team's APIs when absent. */
  api?: string;
  /** Named reviewers' option labels; the default reviewer rule when absent. */
  namedReviewers?: string[];
}

/** As the signed-in admin: fills /campaigns' create form (period 2026-Q4, due in 14 days), creates the draft and launches it. */
export async function createAndLaunchCampaign(page: Page, c: CampaignForm): Promise<string> {
  await page.goto("/campaigns");
  const form = page.getByTestId("create-campaign-form");
  await form.locator('[name="name"]').fill(c.name);
  await form.locator('[name="period"]').fill("2026-Q4");
  await form.locator('[name="dueAt"]').fill(new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10));
  await form.locator('select[name="teamIds"]').selectOption({ label: c.team });
  await form.locator('select[name="environmentIds"]').selectOption({ label: c.environment });
  if (c.api) await form.locator('select[name="apiIds"]').selectOption({ label: c.api });
  if (c.namedReviewers) {
    await form.locator('select[name="reviewerRule"]').selectOption("named");
    await form.locator('select[name="namedReviewerIds"]').selectOption(c.namedReviewers.map((label) => ({ label })));
  }
  await form.getByRole("button", { name: "Create draft" }).click();
  // "Create draft" opens the draft, which shows the launch preview.
  await expect(page).toHaveURL(/\/campaigns\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("launch-preview")).toBeVisible();
  await page.getByRole("button", { name: "Launch campaign" }).click();
  await expect(page.getByText(/Launched: \d+ items snapshotted/)).toBeVisible({ timeout: 30_000 });
  const [{ id }] = await sql<{ id: string }>(`SELECT id FROM "Campaign" WHERE name = $1`, [c.name]);
  return id;
}
