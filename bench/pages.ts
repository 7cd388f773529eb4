/**
 * Page timings: `npx tsx bench/pages.ts [--loads 10] [--skip-build] [--roles admin,manager,reviewer,auditor]`
 *
 * 1. creates a database of its own on the real Postgres (embedded only if none), seeds the demo company and
 *    its launched certification campaign, and runs the analysis once (so the queue and overview have findings),
 * 2. builds the dashboard (`next build`, unless --skip-build reuses the existing .next) and starts it with
 *    `next start` in demo mode, as `npm start` serves it,
 * 3. in real Chromium: signs in `--loads` times (fresh context each; submit → overview loaded), then, signed in
 *    once per role, loads every page that role has in its navigation plus the detail pages `--loads` times
 *    (full navigations after one warm-up load) and reads the browser's navigation timing:
 *      server response = navigation start → first byte of the document (responseStart),
 *      time to content  = navigation start → the load event (the streamed document complete, so the page's
 *                         data is on screen and its styles and scripts are loaded),
 * 4. prints medians (and max) per page and the machine's load average before and after; drops the database.
 * Targets (issue 19): p50 time to content <= 1 s for every page; sign-in <= 2 s.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { chromium, type Browser, type Page } from "@playwright/test";
import { systemActor } from "@/lib/auth/actor";
import { runAnalysis } from "@/lib/analysis";
import { createDb } from "@/lib/db";
import { seedDemo } from "@/lib/seed";
import { seedDemoCampaign } from "@/lib/seed/demo-campaign";
import { createTestDatabase, freePort } from "@/test/support/db";
import { pct, runBench } from "./support";

const { values } = parseArgs({
  options: {
    loads: { type: "string", default: "10" },
    "skip-build": { type: "boolean", default: false },
    roles: { type: "string", default: "admin,reviewer,manager,auditor" },
  },
});
const LOADS = Math.max(1, Number(values.loads));
const ROLES = values.roles!.split(",");
const log = (msg: string) => console.log(`[pages] ${msg}`);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" / ");
const median = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 50);
const max = (xs: number[]) => Math.max(...xs);

async function waitServing(url: string, child: ChildProcess) {
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error("next start exited");
    try {
      const r = await fetch(url, { redirect: "manual" });
      await r.arrayBuffer();
      if (r.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer`);
}

async function signIn(page: Page, role: string): Promise<number> {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(`${role}@tollgate.test`);
  await page.getByLabel("Password").fill("tollgate-demo");
  const start = performance.now();
  await Promise.all([page.waitForURL(/^https?:\/\/[^/]+\/$/, { waitUntil: "load", timeout: 60_000 }), page.getByRole("button", { name: "Sign in", exact: true }).click()]);
  return performance.now() - start;
}

/** One full navigation; the browser's own timing of it. */
async function timeLoad(page: Page, url: string): Promise<{ response: number; content: number; status: number }> {
  const res = await page.goto(url, { waitUntil: "load", timeout: 60_000 });
  const t = await page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
    return { response: n.responseStart - n.startTime, content: n.loadEventStart - n.startTime };
  });
  return { ...t, status: res?.status() ?? 0 };
}

/** Admin pages reached from /settings rather than from the main navigation. */
const SETTINGS_PAGES = ["/settings/proxies", "/settings/webhooks"];

async function pagesOf(page: Page): Promise<string[]> {
  // The role's navigation, as the layout renders it.
  return page.locator('nav[aria-label="Main"] a').evaluateAll((as) => as.map((a) => new URL((a as HTMLAnchorElement).href).pathname));
}

runBench(async () => {
  log(`load average (1/5/15 min) at the start: ${load()} on ${os.cpus().length} cores`);
  const tdb = await createTestDatabase();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let app: ChildProcess | undefined;
  let browser: Browser | undefined;
  try {
    const db = createDb(tdb.url, 2);
    await seedDemo(db);
    await seedDemoCampaign(db);
    const analysis = await runAnalysis(systemActor("bench"), {}, db);
    log(`demo data seeded and analysed (${JSON.stringify(analysis.stats).slice(0, 120)}…)`);
    const [api, principal, campaign] = await Promise.all([
      db.api.findFirstOrThrow({ where: { environment: { tier: "production" } }, orderBy: { name: "asc" }, select: { id: true } }),
      db.principal.findFirstOrThrow({ where: { externalId: "emp-dormant-dora" }, select: { id: true } }),
      db.campaign.findFirstOrThrow({ select: { id: true } }),
    ]);
    await db.$disconnect();
    const details = [`/apis/${api.id}`, `/principals/${principal.id}`, `/campaigns/${campaign.id}`];

    const env = {
      ...process.env,
      DATABASE_URL: tdb.url,
      TOLLGATE_DEMO: "1",
      NEXTAUTH_URL: base,
      NEXTAUTH_SECRET: "bench-secret-0123456789abcdef0123456789",
      TOLLGATE_FIRST_ANALYSIS_DELAY_MS: "-1",
      NODE_ENV: "production" as const,
    };
    if (!values["skip-build"] || !existsSync(".next/BUILD_ID")) {
      log("building the dashboard (next build)");
      if (spawnSync("npx", ["next", "build"], { stdio: "inherit", env }).status !== 0) throw new Error("next build failed");
    }
    app = spawn("npx", ["next", "start", "-p", String(port), "-H", "127.0.0.1"], { env, stdio: ["ignore", "ignore", "inherit"], detached: true });
    await waitServing(`${base}/signin`, app);
    log(`serving at ${base}; load average ${load()}`);

    const executablePath = process.env.CHROMIUM_PATH ?? (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"] });
    const ctx = () => browser!.newContext({ baseURL: base, viewport: { width: 1440, height: 900 } });

    // Sign-in: a fresh context each time (no session cookie), warm-up first.
    const signIns: number[] = [];
    for (let i = 0; i <= LOADS; i++) {
      const c = await ctx();
      const ms = await signIn(await c.newPage(), "admin");
      if (i > 0) signIns.push(ms);
      await c.close();
    }
    log(`sign-in (submit → overview loaded): p50 ${median(signIns).toFixed(0)} ms, max ${max(signIns).toFixed(0)} ms (n=${signIns.length})`);

    const rows: string[] = [];
    for (const role of ROLES) {
      const c = await ctx();
      const page = await c.newPage();
      await signIn(page, role);
      // Settings' own sub-pages (proxies, webhooks) are linked from /settings, not from the navigation.
      const nav = await pagesOf(page);
      const extra = role === "admin" ? SETTINGS_PAGES.filter((p) => !nav.includes(p)) : [];
      const urls = [...nav, ...extra, ...details];
      for (const url of urls) {
        await timeLoad(page, url); // warm-up: the first render of a route compiles nothing in production, but fills caches
        const runs = [];
        for (let i = 0; i < LOADS; i++) runs.push(await timeLoad(page, url));
        const label = url.replace(/[0-9a-f-]{36}/, ":id");
        const line = `${role.padEnd(8)} ${label.padEnd(20)} status ${runs[0].status}  server response p50 ${median(runs.map((r) => r.response)).toFixed(0).padStart(5)} ms  time to content p50 ${median(runs.map((r) => r.content)).toFixed(0).padStart(5)} ms (max ${max(runs.map((r) => r.content)).toFixed(0)})`;
        rows.push(line);
        log(line);
      }
      await c.close();
    }
    log(`load average (1/5/15 min) at the end: ${load()}`);
    console.log(["", "| role | page | server response p50 (ms) | time to content p50 (ms) |", "|---|---|---:|---:|", ...rows.map((r) => {
      const m = /^(\S+)\s+(\S+)\s+status \d+\s+server response p50\s+(\d+) ms\s+time to content p50\s+(\d+) ms/.exec(r)!;
      return `| ${m[1]} | ${m[2]} | ${m[3]} | ${m[4]} |`;
    })].join("\n"));
  } finally {
    await browser?.close().catch(() => undefined);
    if (app?.pid && app.exitCode === null) {
      const exited = new Promise((r) => app!.once("exit", r));
      try {
        process.kill(-app.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    await tdb.drop().catch(() => undefined);
  }
});
