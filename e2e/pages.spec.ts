import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type Page, type TestInfo } from "@playwright/test";
import { createAndLaunchCampaign, signIn, sql } from "./support/stack";

// Issue 19, acceptance for every page: each page of the dashboard, for every role, has no serious or
// critical axe-core violation and does not scroll sideways (outside its tables, which scroll in their own
// box) at 1440×900 or 1024×768. One signed-in context per role is reused for all its pages, so the
// whole spec stays within a few minutes.

const ROLES = ["admin", "reviewer", "manager", "auditor"] as const;
const SIZES = [
  { width: 1440, height: 900 },
  { width: 1024, height: 768 },
];
// Static pages; the detail pages (one API, one principal, one campaign) are added from the database.
const PAGES = [
  "/",
  "/queues",
  "/certifications",
  "/campaigns",
  "/grants",
  "/apis",
  "/discovery",
  "/imports",
  "/audit",
  "/reports",
  "/access/requests",
  "/access/approvals",
  "/access/keys",
  "/settings",
  "/settings/tokens",
  "/settings/api",
  "/settings/proxies",
  "/settings/policies",
  "/settings/webhooks",
  "/remediation",
];

let detailPages: string[] = [];

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  // A launched campaign gives /campaigns/:id and the manager's certification list something to show.
  let [campaign] = await sql<{ id: string }>(`SELECT id FROM "Campaign" WHERE status = 'active' ORDER BY "launchedAt" LIMIT 1`);
  if (!campaign) {
    const page = await signedIn(browser, "admin");
    const id = await createAndLaunchCampaign(page, { name: `E2E pages ${Date.now()}`, team: "Checkout", environment: "production" });
    await page.context().close();
    campaign = { id };
  }
  const [api] = await sql<{ id: string }>(`SELECT a.id FROM "Api" a JOIN "Environment" e ON e.id = a."environmentId" WHERE e.tier = 'production' ORDER BY a.name LIMIT 1`);
  const [principal] = await sql<{ id: string }>(`SELECT id FROM "Principal" WHERE "externalId" = 'emp-dormant-dora'`);
  detailPages = [`/apis/${api.id}`, `/principals/${principal.id}`, `/campaigns/${campaign.id}`];
});

async function signedIn(browser: Browser, role: (typeof ROLES)[number]): Promise<Page> {
  const context = await browser.newContext({ viewport: SIZES[0] });
  const page = await context.newPage();
  await signIn(page, `${role}@tollgate.test`);
  return page;
}

interface Problem {
  page: string;
  what: string;
}

/** Serious and critical axe violations on the page as it is, one line per rule with the first nodes. */
async function axeProblems(page: Page, url: string): Promise<Problem[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ page: url, what: `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")}${n.failureSummary ? ` (${n.failureSummary.split("\n").slice(1, 2).join("").trim()})` : ""}`).join("; ")}${v.nodes.length > 3 ? ` (+${v.nodes.length - 3} more)` : ""}` }));
}

async function sidewaysScroll(page: Page, url: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const size of SIZES) {
    await page.setViewportSize(size);
    // Charts re-measure on the next frames after a resize (ResizeObserver): judge the settled layout.
    let overflow = 0;
    for (let i = 0; i < 10; i++) {
      overflow = await page.evaluate(() => {
        const el = document.scrollingElement ?? document.documentElement;
        return el.scrollWidth - el.clientWidth;
      });
      if (overflow <= 0) break;
      await page.waitForTimeout(200);
    }
    if (overflow > 0) problems.push({ page: url, what: `scrolls sideways by ${overflow}px at ${size.width}×${size.height}` });
  }
  await page.setViewportSize(SIZES[0]);
  return problems;
}

async function checkPage(page: Page, url: string, info: TestInfo, role: string): Promise<Problem[]> {
  const res = await page.goto(url, { waitUntil: "load" });
  expect(res?.status(), `${role} ${url}`).toBeLessThan(500);
  await expect(page.locator("body")).toBeVisible();
  const problems = [...(await axeProblems(page, url)), ...(await sidewaysScroll(page, url))];
  if (problems.length) await info.attach(`${role}${url.replaceAll("/", "_")}`, { body: await page.screenshot({ fullPage: true }), contentType: "image/png" });
  return problems;
}

function report(role: string, problems: Problem[]) {
  // Every finding of every page in one failure message, so one run lists all there is to fix.
  const text = problems.map((p) => `${role} ${p.page}: ${p.what}`).join("\n");
  if (text) console.log(text);
  expect(problems, text).toEqual([]);
}

test("the sign-in page", async ({ page }, info) => {
  report("anonymous", await checkPage(page, "/signin", info, "anonymous"));
});

for (const role of ROLES) {
  test(`every page as ${role}: no serious or critical axe violation, no sideways scroll`, async ({ browser }, info) => {
    // About 20 pages with an axe run each: well under a minute per role on a quiet machine, several at load 25+.
    test.setTimeout(420_000);
    const page = await signedIn(browser, role);
    const problems: Problem[] = [];
    for (const url of [...PAGES, ...detailPages]) problems.push(...(await checkPage(page, url, info, role)));
    await page.context().close();
    report(role, problems);
  });
}
