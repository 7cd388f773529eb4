import { expect, test } from "@playwright/test";
import { ensureAnalysed, signIn, sql } from "./support/stack";
import { checkNoHorizontalScroll } from "./support/layout";

// Issue 19, point 10: the overview's figures, each checked against the database's own counts.

test("the overview's pictures agree with the database", async ({ page }, info) => {
  test.setTimeout(240_000); // the first analysis run of the demo data, on a busy machine
  await signIn(page, "admin@tollgate.test");
  await ensureAnalysed(page); // an analysis run stores today's finding counts
  await page.goto("/");

  // Open findings by severity: the latest stored day, which an analysis run wrote.
  const [latest] = await sql<{ day: string }>(`SELECT to_char(max(day), 'YYYY-MM-DD') AS day FROM "FindingDailyCount"`);
  expect(latest.day).toBeTruthy();
  const stored = await sql<{ severity: string; open: number }>(`SELECT severity::text, open FROM "FindingDailyCount" WHERE day = $1::date`, [latest.day]);
  expect(stored).toHaveLength(4);
  for (const s of stored) await expect(page.getByTestId(`open-${s.severity}`)).toHaveText(String(s.open));
  await expect(page.getByTestId("stacked-area-chart")).toBeVisible();
  const [{ days }] = await sql<{ days: number }>(`SELECT count(DISTINCT day)::int AS days FROM "FindingDailyCount" WHERE day > current_date - 90`);
  expect(days).toBeGreaterThan(1); // a trend, not one point

  // Access removed in the last 12 weeks, and how much of what needs a proxy is enforced.
  const [removed] = await sql<{ total: number; enforced: number; needing: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE enforcement = 'applied')::int AS enforced,
            count(*) FILTER (WHERE enforcement <> 'not_required')::int AS needing
     FROM "Decision" WHERE kind IN ('revoke', 'reduce') AND NOT "awaitingConfirmation" AND discard IS NULL
       AND "createdAt" >= (date_trunc('week', now() AT TIME ZONE 'UTC') - interval '11 weeks') AT TIME ZONE 'UTC'`,
  );
  await expect(page.getByTestId("removed-total")).toHaveText(String(removed.total));
  await expect(page.getByTestId("removed-enforced")).toHaveText(String(removed.enforced));
  await expect(page.getByTestId("removed-needing-proxy")).toHaveText(String(removed.needing));

  // Medians: over this many queue decisions.
  const [{ n }] = await sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM "Decision" WHERE "findingId" IS NOT NULL AND NOT "awaitingConfirmation" AND discard IS NULL AND "createdAt" >= now() - interval '90 days'`,
  );
  await expect(page.getByTestId("median-decisions")).toHaveText(String(n));

  // Proxies and their undelivered changes.
  const proxies = await sql<{ name: string; pending: number; synced: boolean }>(
    `SELECT p.name, count(o.id)::int AS pending, p."lastSyncAt" IS NOT NULL AS synced FROM "Proxy" p LEFT JOIN "OutboxItem" o ON o."proxyId" = p.id AND o.status <> 'applied' GROUP BY p.id`,
  );
  for (const p of proxies) {
    const row = page.locator(`[data-testid="overview-proxy"][data-proxy="${p.name}"]`);
    await expect(row.getByTestId("proxy-pending")).toHaveText(String(p.pending));
    if (!p.synced) await expect(row).toContainText("never contacted");
  }

  // Campaigns in flight with their completion.
  const campaigns = await sql<{ id: string; total: number; decided: number }>(
    `SELECT c.id, count(ci.id)::int AS total, count(ci.decision)::int AS decided FROM "Campaign" c LEFT JOIN "CampaignItem" ci ON ci."campaignId" = c.id
     WHERE c.status IN ('active', 'fallback') GROUP BY c.id`,
  );
  await expect(page.getByTestId("overview-campaign")).toHaveCount(campaigns.length);
  for (const c of campaigns) {
    const row = page.locator(`[data-testid="overview-campaign"][data-campaign-id="${c.id}"]`);
    await expect(row.getByTestId("campaign-decided")).toHaveText(c.decided.toLocaleString("en-US"));
    await expect(row.getByTestId("campaign-total")).toHaveText(c.total.toLocaleString("en-US"));
  }

  // The five riskiest open findings, in order, each linking into the queue.
  const top = await sql<{ id: string; rule: string }>(`SELECT id, rule::text FROM "Finding" WHERE status = 'open' ORDER BY "riskScore" DESC, "openedAt", id LIMIT 5`);
  const shown = page.getByTestId("riskiest-finding");
  await expect(shown).toHaveCount(top.length);
  expect(await shown.evaluateAll((els) => els.map((e) => e.getAttribute("data-finding-id")))).toEqual(top.map((t) => t.id));

  await checkNoHorizontalScroll(page, info, "overview");
  if (top.length) {
    await shown.first().getByRole("link", { name: "Review →" }).click();
    await expect(page).toHaveURL(new RegExp(`/queues\\?rule=${top[0].rule}&severity=`));
  }
});
