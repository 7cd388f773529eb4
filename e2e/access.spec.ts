import { readFile } from "node:fs/promises";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { csvObjects } from "../test/support/csv";
import { dashboard, pathFor, shortcutsReady, signIn, sql, through, untilStatus } from "./support/stack";

// Issue 16 end to end: real browser, dashboard, proxy and upstream (e2e/support/run-e2e.ts).
// An admin creates a service account owned by Riley; Riley issues its key (shown once),
// requests orders:write on production for 1 hour; Morgan (manager of Checkout, the API's
// owning team) approves and the key passes the proxy within a second. Then rotation with a
// short overlap and "revoke every key". Last, a grant whose end is a minute or two away (an
// hour cannot be waited out here): the dashboard process is STOPPED before the end and the
// proxy alone turns 200 into 403; started again, the dashboard marks the grant expired and
// the audit log and the access-granted report show the request, approval and both times.

test.describe.configure({ mode: "serial" });

/** A server action's answer on a shared machine (seen > 10 s at load 37): wait for it, generously. */
const ACTION_MS = 60_000;
const SA = `e2e-orders-bot-${Date.now().toString(36)}`;
let key = "";

async function as(browser: Browser, email: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, email);
  return page;
}

const section = (page: Page) => page.getByRole("region", { name: SA });
/** The pages are server-rendered: a person reloads to see the proxies' acknowledgement arrive. */
async function untilShown(page: Page, url: string, text: () => Promise<string | null>, want: RegExp) {
  await expect
    .poll(async () => {
      await page.goto(url);
      return (await text()) ?? "";
    }, { timeout: 15_000, intervals: [250, 500, 1000] })
    .toMatch(want);
}

test("request → approve → the service account's key gets 200 through the proxy within 1 s", async ({ browser }) => {
  test.setTimeout(300_000); // three people sign in, each a full page load on a shared machine (2.1 min at load 35)
  const [prod] = await sql<{ name: string }>(`SELECT name FROM "Environment" WHERE tier = 'production' ORDER BY name LIMIT 1`);
  const admin = await as(browser, "admin@tollgate.test");
  await admin.goto("/access/keys");
  await admin.getByLabel("Name").fill(SA);
  await admin.getByLabel("Owning team").selectOption({ label: "Security" });
  await admin.getByLabel("Accountable owner").selectOption({ label: "Riley Reviewer" });
  await admin.getByLabel("Environment").selectOption({ label: prod.name });
  await admin.getByRole("button", { name: "Create service account" }).click();
  await expect(admin.getByText(`Service account “${SA}” created`)).toBeVisible({ timeout: ACTION_MS });

  const riley = await as(browser, "reviewer@tollgate.test");
  await riley.goto("/access/keys");
  await section(riley).getByRole("button", { name: "Issue key" }).click();
  key = (await section(riley).getByTestId("new-key").textContent()) ?? "";
  expect(key).toMatch(/^tg_prod_[0-9A-Za-z]{43}_[0-9A-Za-z]{6}$/);
  await untilShown(riley, "/access/keys", () => section(riley).getByTestId("enforcement").textContent(), /issue key: enforced/);
  const path = await pathFor("orders", "orders:write", "POST");
  await untilStatus("POST", path, key, 403, 5_000); // known key, no grant yet

  await riley.goto("/access/requests");
  await riley.getByLabel("For").selectOption({ label: `${SA} (service account)` });
  await riley.getByLabel("API").selectOption({ label: `orders — ${prod.name}` });
  await riley.getByLabel("orders:write", { exact: true }).check();
  await riley.locator('select[name="duration"]').selectOption({ label: "1 hour" });
  await riley.getByLabel("Reason (required)").fill("e2e: replay failed orders");
  await riley.getByRole("button", { name: "Request access" }).click();
  await expect(riley.getByText(/Requested:/)).toBeVisible({ timeout: ACTION_MS });
  // Riley cannot approve it (it is not in an inbox Riley can act on: Security does not own orders).
  await riley.goto("/access/approvals");
  await expect(riley.locator("tbody")).not.toContainText("e2e: replay failed orders");

  const morgan = await as(browser, "manager@tollgate.test");
  await morgan.goto("/access/approvals");
  const row = morgan.locator("tbody tr", { hasText: "e2e: replay failed orders" });
  await row.getByRole("button", { name: "Approve" }).click();
  const clicked = Date.now();
  await untilStatus("POST", path, key, 200, 3_000);
  expect(Date.now() - clicked).toBeLessThan(1_000 + 300 /* one poll of slack */);
  await untilShown(morgan, "/access/approvals?status=approved", () => morgan.locator("tbody tr", { hasText: "e2e: replay failed orders" }).getByTestId("enforcement").textContent(), /enforced/);

  const actions = (await sql<{ action: string }>(`SELECT action FROM "AuditEvent" WHERE action LIKE 'access.%' OR action LIKE 'credential.%'`)).map((r) => r.action);
  expect(actions).toEqual(expect.arrayContaining(["credential.issue", "access.request", "access.approve"]));
  const [g] = await sql<{ origin: string; hours: number }>(
    `SELECT g.origin, round(extract(epoch FROM g."expiresAt" - g."grantedAt") / 3600)::int AS hours FROM "Grant" g JOIN "Principal" p ON p.id = g."principalId" WHERE p."displayName" = $1`,
    [SA],
  );
  expect(g).toEqual({ origin: "request", hours: 1 });
});

test("rotation: old and new key both work during the overlap, only the new one after; revoke every key → all 401", async ({ browser }) => {
  test.setTimeout(300_000); // waits out a 36 s overlap on purpose, on a shared machine
  const path = await pathFor("orders", "orders:write", "POST");
  expect(await through("POST", path, key)).toBe(200);
  const riley = await as(browser, "reviewer@tollgate.test");
  await riley.goto("/access/keys");
  const old = section(riley).locator("tbody tr").first();
  await old.getByRole("spinbutton").fill("0.01"); // 36 s overlap
  await old.getByRole("button", { name: "Rotate" }).click();
  const rotated = await section(riley).getByTestId("new-key").textContent();
  const fresh = rotated ?? "";
  expect(fresh).not.toBe(key);
  await untilStatus("POST", path, fresh, 200, 3_000);
  expect(await through("POST", path, key)).toBe(200); // inside the overlap
  await untilStatus("POST", path, key, 401, 60_000); // the proxy ends it by itself
  expect(await through("POST", path, fresh)).toBe(200);

  await riley.goto("/access/keys");
  await section(riley).getByRole("button", { name: "Revoke every key" }).click();
  await expect(section(riley).getByText(/key\(s\) revoked/)).toBeVisible({ timeout: ACTION_MS });
  await untilStatus("POST", path, fresh, 401, 3_000);
  expect(await through("POST", path, key)).toBe(401);
  await untilShown(riley, "/access/keys", () => section(riley).getByTestId("enforcement").textContent(), /revoke all keys: enforced/);
});

test("with the dashboard stopped, the proxy ends a time-boxed grant by itself; restarted, the dashboard records the expiry", async ({ browser }) => {
  // Waits for a grant's end (1–2 minutes, the form has minute precision), a dashboard restart and the
  // once-a-minute expiry job, on a busy machine.
  test.setTimeout(600_000);
  const [prod] = await sql<{ name: string }>(`SELECT name FROM "Environment" WHERE tier = 'production' ORDER BY name LIMIT 1`);
  const REASON = "e2e: ends while the dashboard is down";
  const riley = await as(browser, "reviewer@tollgate.test");
  const morgan = await as(browser, "manager@tollgate.test");
  // The earlier test revoked every key of the service account: a new one.
  await riley.goto("/access/keys");
  await section(riley).getByRole("button", { name: "Issue key" }).click();
  const fresh = (await section(riley).getByTestId("new-key").textContent()) ?? "";
  expect(fresh).toMatch(/^tg_prod_/);
  // orders:read only (the service account still holds orders:write for an hour, which this path does not accept).
  const path = await pathFor("orders", "orders:read", "GET", "orders:write");
  await untilStatus("GET", path, fresh, 403, 10_000); // known key, no orders:read

  /** Riley asks for orders:read for the service account: a preset (1 hour) or until a UTC minute. */
  const ask = async (reason: string, until?: Date) => {
    await riley.goto("/access/requests");
    // The form's API and mode are React state: wait until it is interactive (the date field follows the mode).
    await expect(async () => {
      await riley.getByLabel("until a date (UTC)").check();
      await expect(riley.getByLabel("Until (UTC)")).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    if (until) await riley.getByLabel("Until (UTC)").fill(until.toISOString().slice(0, 16));
    else await riley.getByLabel("preset").check();
    await riley.getByLabel("For").selectOption({ label: `${SA} (service account)` });
    await riley.getByLabel("API").selectOption({ label: `orders — ${prod.name}` });
    await riley.getByLabel("orders:read", { exact: true }).check();
    await riley.getByLabel("Reason (required)").fill(reason);
    await riley.getByRole("button", { name: "Request access" }).click();
    await expect(riley.getByText(/Requested:/)).toBeVisible({ timeout: ACTION_MS });
  };
  // First a request Morgan will deny, so the inbox has a neighbour to move between.
  const NEIGHBOUR = "e2e: a neighbour to deny from the keyboard";
  await ask(NEIGHBOUR);
  // The form takes a UTC minute: the next whole minute at least 60 s away.
  const end = new Date(Math.ceil((Date.now() + 60_000) / 60_000) * 60_000);
  await ask(REASON, end);

  // Morgan works the inbox from the keyboard: j/k move, d denies the neighbour with a reason, a + Enter approves.
  await morgan.goto("/access/approvals");
  await shortcutsReady(morgan);
  const rowOf = (text: string) => morgan.locator("tbody tr", { hasText: text });
  /** From the first row (where the cursor starts), j down to the row. */
  const moveTo = async (text: string) => {
    const index = Number(await rowOf(text).getAttribute("data-row-index"));
    await expect(morgan.locator('tbody tr[data-row-index="0"]')).toHaveAttribute("aria-selected", "true");
    for (let i = 0; i < index; i++) await morgan.keyboard.press("j");
    await expect(rowOf(text)).toHaveAttribute("aria-selected", "true");
  };
  await moveTo(REASON);
  await morgan.keyboard.press("k"); // the neighbour was asked first, so it is the row above
  await expect(rowOf(REASON)).toHaveAttribute("aria-selected", "false");
  await expect(rowOf(NEIGHBOUR)).toHaveAttribute("aria-selected", "true");
  await morgan.keyboard.press("d");
  await expect(rowOf(NEIGHBOUR).getByLabel("Reason for denial")).toBeFocused();
  await morgan.keyboard.type("not needed: read access is part of the other request");
  await morgan.keyboard.press("Enter");
  await expect(rowOf(NEIGHBOUR)).toHaveCount(0); // denied, so no longer pending
  await moveTo(REASON);
  await morgan.keyboard.press("a");
  await expect(rowOf(REASON).getByRole("button", { name: "Approve" })).toBeFocused();
  await morgan.keyboard.press("Enter");
  await untilStatus("GET", path, fresh, 200, 10_000);
  const [req] = await sql<{ id: string; grantEndsAt: Date }>(`SELECT id, "grantEndsAt" FROM "AccessRequest" WHERE reason = $1`, [REASON]);
  expect(req.grantEndsAt.getTime()).toBe(end.getTime());
  expect(await sql(`SELECT 1 FROM "AccessRequest" WHERE reason = $1 AND status = 'denied'`, [NEIGHBOUR])).toHaveLength(1);

  await dashboard("stop");
  try {
    // Nothing answers where the dashboard was; the proxy still serves the grant until its end.
    await expect(fetch(`${process.env.BASE_URL}/signin`)).rejects.toThrow();
    if (Date.now() < end.getTime() - 2_000) expect(await through("GET", path, fresh)).toBe(200);
    await untilStatus("GET", path, fresh, 403, end.getTime() - Date.now() + 60_000);
    expect(Date.now()).toBeGreaterThanOrEqual(end.getTime());
    await expect(fetch(`${process.env.BASE_URL}/signin`)).rejects.toThrow(); // still down when the 403 came
    expect(await through("GET", path, fresh)).toBe(403);
  } finally {
    await dashboard("start");
  }

  // Started again, the expiry job marks the grant expired (it runs every minute).
  await expect
    .poll(async () => (await sql<{ status: string }>(`SELECT g.status::text AS status FROM "Grant" g JOIN "AccessRequest" r ON g.id = ANY(r."grantIds") WHERE r.id = $1`, [req.id]))[0]?.status, {
      timeout: 240_000,
      intervals: [2_000],
    })
    .toBe("expired");
  expect(await through("GET", path, fresh)).toBe(403);

  const admin = await as(browser, "admin@tollgate.test");
  for (const action of ["access.request", "access.approve", "access.grant_expired"]) {
    await admin.goto(`/audit?action=${action}`);
    await expect(admin.locator("tbody")).toContainText(action);
  }
  await admin.goto(`/audit?action=access.grant_expired`);
  await expect(admin.locator("tbody")).toContainText(req.id);

  await admin.goto("/reports?report=access-granted");
  const [dl] = await Promise.all([admin.waitForEvent("download"), admin.getByRole("button", { name: "Download CSV" }).click()]);
  const rows = csvObjects((await readFile(await dl.path())).toString("utf8"));
  const row = rows.find((r) => r["Request id"] === req.id);
  expect(row).toMatchObject({
    "Requested by": "reviewer@tollgate.test",
    "Approved by": "manager@tollgate.test",
    Reason: REASON,
    "Grant status": "expired",
    Enforcement: "applied",
    "Ends at (enforced by the proxy)": end.toISOString(),
  });
  expect(row?.["Started at the proxy (acknowledged)"]).toMatch(/^\d{4}-/);
  expect(Date.parse(row?.["Marked expired by the dashboard"] ?? "")).toBeGreaterThanOrEqual(end.getTime());
  expect(JSON.stringify(rows)).not.toContain(fresh.split("_")[2]); // never the key itself
});
