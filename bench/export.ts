/**
 * Evidence export benchmark: `npx tsx bench/export.ts [--rows 1000000] [--build]`
 *
 * 1. creates a fresh database on the real Postgres and generates the synthetic
 *    inventory with seedScale (about 85 % of generated grants are active, so it
 *    generates rows / 0.8 grants to get at least `rows` active ones),
 * 2. starts the real app with `next start` on a free port (the production build
 *    in .next; `--build`, or no build yet, runs `next build` first), background
 *    jobs off so only the export runs,
 * 3. downloads GET /api/v1/reports/inventory?format=csv with a service token
 *    (reports:export) over HTTP, hashing and counting rows as they arrive, while
 *    sampling the RSS of the serving process tree every 50 ms from /proc,
 * 4. checks the export record (completed, row count, SHA-256 of what arrived),
 *    prints rows/s and peak RSS, stops the app and drops the database.
 * Targets (issue 7): >= 100,000 rows/s, peak RSS <= 300 MB.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { request } from "undici";
import { systemActor } from "@/lib/auth/actor";
import { createServiceToken } from "@/lib/auth/service-tokens";
import { createDb } from "@/lib/db";
import { applyMigrationsSql } from "@/lib/db/migrate";
import { seedScale } from "@/lib/seed/scale";
import { freePort } from "@/test/support/db";
import { benchDatabase, serverSql, runBench } from "./support";

const { values } = parseArgs({ options: { rows: { type: "string", default: "1000000" }, build: { type: "boolean", default: false } } });
const ROWS = Number(values.rows);
const { server, name, url } = benchDatabase();
const admin = (sql: string) => serverSql(server, sql);
const log = (msg: string) => console.log(`[export] ${msg}`);

/** RSS (bytes) of a process and all its descendants, from /proc (Linux). */
function treeRss(rootPid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited meanwhile */
    }
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      /* exited meanwhile */
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

async function waitFor(u: string, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await request(u);
      await r.body.dump();
      if (r.statusCode < 500) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${u}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(0);

async function main() {
  log(`host: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  if (values.build || !existsSync(".next/BUILD_ID")) {
    log("building the app (next build)");
    const b = spawnSync("npx", ["next", "build"], { stdio: "inherit", env: { ...process.env, NODE_ENV: "production", DATABASE_URL: url.toString() } });
    if (b.status !== 0) throw new Error("next build failed");
  }
  await admin(`CREATE DATABASE "${name}"`);
  const db = createDb(url.toString(), 4);
  let app: ChildProcess | undefined;
  try {
    await applyMigrationsSql(url.toString());
    const seeded = await seedScale(db, { grants: Math.ceil(ROWS / 0.8) });
    log(`generated ${seeded.grants.toLocaleString("en-US")} grants in ${(seeded.ms / 1000).toFixed(1)} s`);
    await db.$executeRawUnsafe(`ANALYZE`);
    const { token } = await createServiceToken(systemActor("bench"), { name: "bench", scopes: ["reports:export"] }, db);

    const port = await freePort();
    // node runs next directly (not through npx), so the measured tree is the server and nothing else.
    // BENCH_EXPORT_NODE_ARGS: extra Node flags for the server (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
    const extra = (process.env.BENCH_EXPORT_NODE_ARGS ?? "").split(" ").filter(Boolean);
    app = spawn(process.execPath, [...extra, "node_modules/next/dist/bin/next", "start", "-p", String(port), "-H", "127.0.0.1"], {
      env: { ...process.env, NODE_ENV: "production", DATABASE_URL: url.toString(), NEXTAUTH_URL: `http://127.0.0.1:${port}`, NEXTAUTH_SECRET: "bench-secret-0123456789abcdef", TOLLGATE_BACKGROUND: "0", TOLLGATE_DEMO: "0" },
      stdio: ["ignore", "inherit", "inherit"],
      detached: true, // its own process group, so stopping it stops next's children too
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/signin`, 120_000);
    const headers = { authorization: `Bearer ${token}` };

    // Warm-up: the route's first call compiles nothing (production build) but loads modules and opens pools.
    const warm = await request(`${base}/api/v1/reports/audit-chain?format=csv`, { headers });
    await warm.body.dump();
    const idleRss = treeRss(app.pid!);

    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, treeRss(app!.pid!))), 50);
    const hash = createHash("sha256");
    let bytes = 0;
    let lines = 0;
    let firstByte = 0;
    const started = performance.now();
    const res = await request(`${base}/api/v1/reports/inventory?format=csv`, { headers });
    if (res.statusCode !== 200) throw new Error(`export answered ${res.statusCode}: ${await res.body.text()}`);
    for await (const chunk of res.body) {
      if (firstByte === 0) firstByte = performance.now() - started;
      const buf = chunk as Buffer;
      hash.update(buf);
      bytes += buf.length;
      for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, treeRss(app.pid!));
    const rows = lines - 1; // header line

    const exportId = res.headers["x-tollgate-export-id"] as string;
    const record = await db.reportExport.findUniqueOrThrow({ where: { id: exportId } });
    if (record.status !== "completed" || record.rowCount !== rows || record.sha256 !== hash.digest("hex")) {
      throw new Error(`export record does not match what arrived: ${JSON.stringify({ status: record.status, rowCount: record.rowCount, rows })}`);
    }
    const rate = rows / seconds;
    log(`CSV over HTTP: ${rows.toLocaleString("en-US")} rows, ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s = ${Math.round(rate).toLocaleString("en-US")} rows/s (target >= 100,000)${rate < 100_000 ? "  (under target)" : ""}`);
    log(`first byte after ${firstByte.toFixed(0)} ms`);
    log(`serving process tree RSS: idle ${mb(idleRss)} MB, peak during export ${mb(peak)} MB (target <= 300 MB)${peak > 300 * 1024 * 1024 ? "  (over target)" : ""}`);
    log(`export record ${exportId}: completed, ${record.rowCount} rows, SHA-256 matches the bytes received`);
    log(`load average after: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  } finally {
    if (app?.pid) {
      try {
        process.kill(-app.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
    }
    await db.$disconnect();
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

runBench(main);
