/**
 * Review-loop benchmark: `npx tsx bench/review.ts [--grants 1000000] [--runs 60] [--decisions 250]`
 *
 * 1. creates a fresh database on the real Postgres (DATABASE_URL's server, else 127.0.0.1:5432) and
 *    generates the synthetic inventory with seedScale (90 days of usage),
 * 2. runs the full analysis (runAnalysis, all rules) and reports the per-rule breakdown, then re-runs it on
 *    unchanged data (idempotent: nothing written),
 * 3. times the queue's data query (listQueue, what /queues calls) — first page and filtered pages — with
 *    ~100,000 open findings, N runs each after a warm-up, p50/p95,
 * 4. starts the REAL proxy (proxy/main.ts, durable state file) for a small environment of its own, then makes
 *    revoke decisions one at a time and measures decision commit → proxy acknowledgement (p50/p95),
 * 5. drops the database (unless --keep).
 * `--only analysis,queue` runs only some parts (the queue part needs the analysis' findings).
 * Targets (issue 5): analysis <= 30 s; commit → ack p95 <= 100 ms; queue query p95 <= 150 ms.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { systemActor } from "@/lib/auth/actor";
import { createDb, type PrismaClient } from "@/lib/db";
import { applyMigrationsSql } from "@/lib/db/migrate";
import { runAnalysis } from "@/lib/analysis";
import { closeAdminPools } from "@/lib/enforcement/admin-client";
import { startDeliveryWorker } from "@/lib/enforcement/worker";
import { listQueue, parseQueueQuery, revokeGrant } from "@/lib/review";
import { seedScale } from "@/lib/seed/scale";
import { freePort } from "@/test/support/db";
import { grantsOnlySnapshot } from "@/proxy/test-support";
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "undici";
import { benchDatabase, serverSql, pct, runBench } from "./support";

const { values } = parseArgs({
  options: {
    grants: { type: "string", default: "1000000" },
    runs: { type: "string", default: "60" },
    decisions: { type: "string", default: "250" },
    // Parts to run (comma-separated): analysis, queue, decisions. The inventory is always generated.
    only: { type: "string", default: "analysis,queue,decisions" },
    // Keep the database afterwards (for EXPLAIN on the same data); its URL is printed.
    keep: { type: "boolean", default: false },
  },
});
const PARTS = new Set(values.only!.split(","));
const GRANTS = Number(values.grants);
const RUNS = Math.max(20, Number(values.runs));
const DECISIONS = Math.max(200, Number(values.decisions));

const { server, name, url } = benchDatabase();
const adminSql = (sql: string) => serverSql(server, sql);

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${pct(s, 50).toFixed(1)} ms, p95 ${pct(s, 95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (n=${s.length})`;
};
const log = (msg: string) => console.log(`[review] ${msg}`);
const ADMIN_TOKEN = `bench-admin-token-${randomBytes(8).toString("hex")}`;

/** The real proxy (proxy/main.ts) as a child process; resolves once its admin API answers. */
async function startProxy(env: Record<string, string>) {
  const admin = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.resolve("proxy/main.ts")], {
    env: { ...process.env, PROXY_LISTEN: `127.0.0.1:${await freePort()}`, PROXY_ADMIN_LISTEN: `127.0.0.1:${admin}`, PROXY_ADMIN_TOKEN: ADMIN_TOKEN, PROXY_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const adminUrl = `http://127.0.0.1:${admin}`;
  for (let i = 0; ; i++) {
    try {
      await (await request(`${adminUrl}/admin/v1/ready`)).body.dump();
      break;
    } catch {
      if (i > 400) throw new Error("proxy did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { adminUrl, stop: () => new Promise<void>((r) => (child.once("exit", () => r()), child.kill("SIGTERM"))) };
}

async function adminCall(adminUrl: string, method: "GET" | "PUT", p: string, body?: unknown) {
  const res = await request(adminUrl + p, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as unknown };
}

async function timeQuery(db: PrismaClient, label: string, params: Record<string, string>) {
  const actor = systemActor("bench");
  const query = parseQueueQuery(params);
  for (let i = 0; i < 3; i++) await listQueue(actor, query, db);
  const times: number[] = [];
  let rows = 0;
  let total: number | null = 0;
  let capped = false;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const page = await listQueue(actor, query, db);
    times.push(performance.now() - t);
    rows = page.rows.length;
    total = page.total;
    capped = page.totalCapped;
  }
  log(`queue ${label}: ${summary(times)} — ${rows} rows, total ${total === null ? "not counted (join filter; paged by next)" : total.toLocaleString("en-US") + (capped ? " (count capped)" : "")}`);
}

async function commitToAck(db: PrismaClient) {
  // A small environment of its own, so the proxy's state is that environment only.
  const env = await db.environment.create({ data: { name: "bench-edge", tier: "staging" } });
  const api = await db.api.create({ data: { name: "bench-orders", baseUrl: "http://127.0.0.1:9/", environmentId: env.id } });
  const scope = await db.scope.create({ data: { apiId: api.id, name: "bench-orders:read", level: "read" } });
  const principals = await db.principal.createManyAndReturn({
    data: Array.from({ length: DECISIONS }, (_, i) => ({ kind: "user" as const, displayName: `bench-${i}` })),
    select: { id: true },
  });
  const grants = await db.grant.createManyAndReturn({
    data: principals.map((p) => ({ principalId: p.id, scopeId: scope.id, environmentId: env.id, grantedAt: new Date(Date.now() - 400 * 86_400_000) })),
    select: { id: true, principalId: true },
  });
  const findings = await db.finding.createManyAndReturn({
    data: grants.map((g) => ({ grantId: g.id, rule: "never_used" as const, severity: "medium" as const, riskScore: 45, evidence: {}, suggestion: "Revoke" })),
    select: { id: true },
  });
  const reviewer = await db.user.create({ data: { email: "bench-reviewer@example.test", name: "Bench Reviewer", roles: ["reviewer"] } });
  const actor = { kind: "user" as const, userId: reviewer.id, email: reviewer.email, name: reviewer.name, roles: ["reviewer" as const], principalId: null };

  const stateDir = await mkdtemp(path.join(os.tmpdir(), "tollgate-bench-proxy-"));
  const proxy = await startProxy({ PROXY_STATE_FILE: path.join(stateDir, "state.json"), PROXY_ENVIRONMENT: "bench-edge", PROXY_ACCESS_LOG: "false" });
  const acks = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const worker = await startDeliveryWorker({
    client: db,
    listenUrl: url.toString(),
    pollMs: 5_000,
    verify: false,
    onAck: (a) => {
      if (!a.decisionId) return;
      acks.set(a.decisionId, performance.now());
      waiters.get(a.decisionId)?.();
    },
  });
  try {
    const benchApi = { id: api.id, name: api.name, prefix: "/bench-orders", upstream: "http://127.0.0.1:9" };
    const snap = await adminCall(proxy.adminUrl, "PUT", "/admin/v1/snapshot", grantsOnlySnapshot("bench-initial", benchApi, grants.map((g) => ({ ...g, scopeId: scope.id }))));
    if (snap.status !== 200) throw new Error(`snapshot push failed: ${JSON.stringify(snap.body)}`);
    await db.proxy.create({ data: { name: "bench-edge-1", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
    const commitToAckMs: number[] = [];
    const clickToAckMs: number[] = [];
    for (const f of findings) {
      const click = performance.now();
      const r = await revokeGrant(actor, { findingId: f.id }, db);
      const committed = performance.now();
      if (!acks.has(r.decisionId)) await new Promise<void>((resolve) => waiters.set(r.decisionId, resolve));
      const ack = acks.get(r.decisionId)!;
      commitToAckMs.push(ack - committed);
      clickToAckMs.push(ack - click);
    }
    await worker.idle();
    const state = (await adminCall(proxy.adminUrl, "GET", "/admin/v1/state")).body as { revision: number; counts: { grants: number } };
    log(`decision commit → proxy ack over ${findings.length} revokes: ${summary(commitToAckMs)} (target p95 <= 100 ms)`);
    log(`decision call start (validate + transaction + commit) → proxy ack: ${summary(clickToAckMs)}`);
    log(`proxy after: revision ${state.revision}, ${state.counts.grants} grants left (expected 0)`);
  } finally {
    await worker.stop();
    await proxy.stop();
    await closeAdminPools();
    await rm(stateDir, { recursive: true, force: true });
  }
}

async function main() {
  log(`host: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  await adminSql(`CREATE DATABASE "${name}"`);
  const db = createDb(url.toString(), 6);
  try {
    await applyMigrationsSql(url.toString());
    const seeded = await seedScale(db, { grants: GRANTS });
    log(`generated ${seeded.grants.toLocaleString("en-US")} grants, ${seeded.usageRows.toLocaleString("en-US")} usage rows in ${(seeded.ms / 1000).toFixed(1)} s`);

    if (PARTS.has("analysis") || PARTS.has("queue")) {
      const { stats } = await runAnalysis(systemActor("bench"), {}, db);
      log(`full analysis over ${GRANTS.toLocaleString("en-US")} grants: ${(stats.totalMs / 1000).toFixed(2)} s (target <= 30 s); load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
      for (const [rule, s] of Object.entries(stats.rules)) {
        log(`  ${rule.padEnd(19)} ${String(s!.ms).padStart(6)} ms  ${s!.candidates.toLocaleString("en-US").padStart(9)} findings`);
      }
      if (stats.usagePass) log(`  usage pass (shared)  ${String(stats.usagePass.ms).padStart(6)} ms  ${stats.usagePass.unusedGrants.toLocaleString("en-US").padStart(9)} unused grants, ${stats.usagePass.usedBundles.toLocaleString("en-US")} bundles with used scopes`);
      if (stats.vacuumMs !== undefined) log(`  VACUUM (ANALYZE) "Finding" ${stats.vacuumMs} ms`);
      if (stats.heldBack.length) log(`held back: ${stats.heldBack.map((h) => h.reason).join("; ")}`);
      const again = await runAnalysis(systemActor("bench"), {}, db);
      const writes = Object.values(again.stats.rules).reduce((n, s) => n + s!.opened + s!.updated + s!.closed, 0);
      log(`re-run on unchanged data: ${(again.stats.totalMs / 1000).toFixed(2)} s, ${writes} findings written (expected 0)`);
      for (const [rule, s] of Object.entries(again.stats.rules)) log(`  re-run ${rule.padEnd(19)} ${String(s!.ms).padStart(6)} ms`);
      if (again.stats.usagePass) log(`  re-run usage pass (shared) ${again.stats.usagePass.ms} ms`);

      const open = await db.finding.count({ where: { status: "open" } });
      const [{ flagged }] = await db.$queryRaw<{ flagged: number }[]>`SELECT count(DISTINCT "grantId")::int AS flagged FROM "Finding" WHERE status = 'open'`;
      log(`open findings: ${open.toLocaleString("en-US")} on ${flagged.toLocaleString("en-US")} grants (${((100 * flagged) / GRANTS).toFixed(1)}% of all grants)`);
    }
    if (PARTS.has("queue")) {
      const env = await db.environment.findFirstOrThrow({ where: { tier: "production" } });
      const api = await db.api.findFirstOrThrow({ where: { environmentId: env.id }, orderBy: { name: "asc" } });
      await timeQuery(db, "first page (all open, riskiest first, 50 rows)", {});
      await timeQuery(db, "filtered: rule=dormant, environment=production", { rule: "dormant", environment: env.id });
      await timeQuery(db, `filtered: api=${api.name}, severity=high`, { api: api.name, severity: "high" });
      await timeQuery(db, "filtered: unassigned, severity=critical", { assignee: "unassigned", severity: "critical" });
      await timeQuery(db, "page 20 of the open queue", { page: "20" });
    }
    if (PARTS.has("decisions")) await commitToAck(db);
  } finally {
    await db.$disconnect();
    if (values.keep) log(`kept database ${url.toString()}`);
    else await adminSql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

runBench(main);
