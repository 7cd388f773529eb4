/**
 * Load test of issue 14: `npx tsx bench/contention.ts [--principals 25000] [--pool 10]`
 *
 * On a fresh database of its own on the real Postgres (DATABASE_URL's server, else 127.0.0.1:5432):
 * 1. builds an inventory (principals × 4 grants, one environment served by a proxy, 45 open findings)
 *    and 10 draft campaigns over all of it (test/support/contention.ts, shared with test/contention.test.ts),
 * 2. quiet baseline: the same kind of decisions one reviewer at a time, nothing else running,
 * 3. everything at once, on ONE Prisma pool of --pool connections (the dashboard's default, 10) and the
 *    export pool (4, as lib/reports/cursor.ts): 50 decisions by 5 reviewers (5 of them on a finding another
 *    reviewer is deciding: exactly 5 clean 409 conflicts expected), 10 campaign launches, 10 inventory CSV
 *    exports read to the end,
 * 4. meanwhile samples pg_stat_activity every 20 ms: how many transactions wait on the audit chain's
 *    advisory lock (lib/audit/chain.ts), and how many connections the run uses,
 * 5. the audit lock's ceiling: audited no-op transactions (lock + head + insert) back to back and from
 *    8 concurrent callers, appends/s,
 * 6. checks the acceptance: 0 decisions failed other than 409, 0 export records left without outcome,
 *    0 deadlocks (pg_stat_database), every launch active; exits 1 otherwise. Drops the database.
 */
import { parseArgs } from "node:util";
import os from "node:os";
import pg from "pg";
import { appendAuditEvent } from "@/lib/audit";
import { createDb, type PrismaClient } from "@/lib/db";
import { applyMigrationsSql } from "@/lib/db/migrate";
import { LONG_WORK_SLOTS } from "@/lib/db/long-work";
import { DECISION_TX, retryStats } from "@/lib/db/retry";
import { revokeGrant } from "@/lib/review";
import { buildContentionWorld, runContention } from "@/test/support/contention";
import { benchDatabase, pct, serverSql } from "./support";

const { values } = parseArgs({
  options: {
    principals: { type: "string", default: "25000" },
    pool: { type: "string", default: "10" },
    "report-pool": { type: "string", default: "4" },
    decisions: { type: "string", default: "50" },
    duplicates: { type: "string", default: "5" },
    reviewers: { type: "string", default: "5" },
    campaigns: { type: "string", default: "10" },
    exports: { type: "string", default: "10" },
    keep: { type: "boolean", default: false },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);
const log = (msg: string) => console.log(`[contention] ${msg}`);
const ms = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? `p50 ${pct(s, 50).toFixed(0)} ms, p95 ${pct(s, 95).toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms (n=${s.length})` : "n=0";
};

const { server, name, url } = benchDatabase();

async function auditCeiling(client: PrismaClient, total: number, concurrency: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        await client.$transaction((tx) => appendAuditEvent(tx, { actor: "bench", action: "bench.append", data: { i: next } }), DECISION_TX);
      }
    }),
  );
  return total / ((performance.now() - t) / 1000);
}

async function main() {
  log(`${new Date().toISOString()} load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}, ${os.cpus().length} cores`);
  await serverSql(server, `CREATE DATABASE "${name}"`);
  const client = createDb(url.toString(), n("pool"));
  const reportPool = new pg.Pool({ connectionString: url.toString(), max: n("report-pool") });
  const monitor = new pg.Client({ connectionString: url.toString() });
  try {
    await applyMigrationsSql(url.toString());
    await monitor.connect();
    const t0 = performance.now();
    const findings = n("decisions") - n("duplicates") + 20;
    const world = await buildContentionWorld(client, { principals: n("principals"), findings, reviewers: n("reviewers"), campaigns: n("campaigns") });
    log(`inventory: ${n("principals") * 4} grants, ${findings} open findings, ${n("campaigns")} draft campaigns (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    log(`settings: Prisma pool ${n("pool")}, export pool ${n("report-pool")}, long-work slots ${LONG_WORK_SLOTS}, decision tx maxWait ${DECISION_TX.maxWait} ms / timeout ${DECISION_TX.timeout} ms`);

    // Quiet baseline on the last 20 findings (not used by the loaded run): one decision at a time.
    const quiet: number[] = [];
    for (const findingId of world.findingIds.slice(-20)) {
      const t = performance.now();
      await revokeGrant(world.reviewers[0], { findingId }, client);
      quiet.push(performance.now() - t);
    }
    log(`quiet decisions (one at a time, nothing else running): ${ms(quiet)}`);
    world.findingIds = world.findingIds.slice(0, -20);

    const deadlocksBefore = Number((await monitor.query(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`)).rows[0].deadlocks);
    const samples: { auditWaiters: number; connections: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await monitor.query(
          `SELECT count(*) FILTER (WHERE wait_event = 'advisory')::int AS "auditWaiters", count(*)::int AS connections
           FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        );
        samples.push(rows[0]);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const retriedBefore = retryStats.retried;
    const r = await runContention(client, world, { decisions: n("decisions"), duplicates: n("duplicates"), exports: n("exports"), reportPool });
    sampling = false;
    await sampler;
    const deadlocks = Number((await monitor.query(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`)).rows[0].deadlocks) - deadlocksBefore;

    const decided = r.decisions.filter((d) => d.ok);
    const conflicts = r.decisions.filter((d) => d.code === "conflict");
    const otherFailures = r.decisions.filter((d) => !d.ok && d.code !== "conflict");
    log(`everything at once: ${n("decisions")} decisions by ${n("reviewers")} reviewers, ${n("campaigns")} launches, ${n("exports")} exports; wall ${(r.wallMs / 1000).toFixed(1)} s`);
    log(`decisions: ${decided.length} applied, ${conflicts.length} clean 409 conflicts, ${otherFailures.length} other failures`);
    for (const f of otherFailures) log(`  failed: ${f.code} ${f.message}`);
    log(`decision latency under load (applied and 409 alike): ${ms(r.decisions.map((d) => d.ms))}`);
    log(`  applied only: ${ms(decided.map((d) => d.ms))}`);
    log(`launches: ${r.launches.filter((l) => l.ok).length}/${r.launches.length} ok, ${ms(r.launches.map((l) => l.ms))}`);
    for (const f of r.launches.filter((l) => !l.ok)) log(`  failed: ${f.code} ${f.message}`);
    log(`exports: ${r.exports.filter((e) => e.ok).length}/${r.exports.length} read to the end, ${ms(r.exports.map((e) => e.ms))}`);
    for (const f of r.exports.filter((e) => !e.ok)) log(`  failed: ${f.code} ${f.message}`);
    log(`transactions re-run after contention: ${retryStats.retried - retriedBefore} (${JSON.stringify(retryStats.reasons)}); gave up (busy): ${retryStats.gaveUp}`);
    const waiters = samples.map((s) => s.auditWaiters);
    const conns = samples.map((s) => s.connections);
    log(
      `audit lock: waiters mean ${(waiters.reduce((a, b) => a + b, 0) / Math.max(1, waiters.length)).toFixed(1)}, max ${Math.max(...waiters)}; ` +
        `connections in use max ${Math.max(...conns)} (${samples.length} samples)`,
    );

    const records = await client.reportExport.groupBy({ by: ["status"], _count: true });
    const running = records.find((x) => x.status === "running")?._count ?? 0;
    const launched = await client.campaign.count({ where: { status: "active" } });
    log(`export records: ${records.map((x) => `${x.status} ${x._count}`).join(", ")}; campaigns active ${launched}/${n("campaigns")}; deadlocks ${deadlocks}`);

    const seq = await auditCeiling(client, 400, 1);
    const conc = await auditCeiling(client, 400, 8);
    log(`audit chain ceiling (audited no-op transactions): ${seq.toFixed(0)}/s back to back, ${conc.toFixed(0)}/s from 8 callers`);

    const ok = otherFailures.length === 0 && conflicts.length === n("duplicates") && running === 0 && deadlocks === 0 && launched === n("campaigns") && r.exports.every((e) => e.ok);
    log(ok ? "ACCEPTANCE MET" : "ACCEPTANCE NOT MET");
    log(`${new Date().toISOString()} load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await monitor.end().catch(() => undefined);
    await reportPool.end();
    await client.$disconnect();
    if (values.keep) log(`kept ${url}`);
    else await serverSql(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

await main();
