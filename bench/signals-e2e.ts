/**
 * Anomaly evaluation against the proxy at full speed (issue 22): `npx tsx bench/signals-e2e.ts`.
 *
 * - A Postgres database of its own (test/support/db) holding the proxy benchmarks' inventory with the same ids
 *   (bench/proxy-state.ts: 20 APIs, 200 scopes, 2,000 endpoints, 100,000 principals, 200,000 credentials,
 *   1,000,000 grants; inserted set-based with generate_series), so ingest's joins find every grant, credential and
 *   endpoint the proxy reports. Every key the load uses has a history older than the learning day (its endpoint,
 *   its network, 112 busy minutes over 29 days), and everything was last used yesterday: the steady state.
 * - The real proxy (proxy/main.ts, signals on, the default 5 s usage flush) holding that state (pushed over the
 *   admin API), with DASHBOARD_URL pointing at bench/signals-e2e-dashboard.ts: a process of its own that answers
 *   POST /api/v1/usage with the real route handler on this database (see there).
 * - For each K in BENCH_KEYS (default 1,000 and 20,000): wrk -t1 -c32 for BENCH_WRK_SECONDS (60) over K distinct
 *   keys (benchRequests(K)); meanwhile one dormant key (lastUsedAt 120 days back) sends one request, and the time
 *   until its `reactivated` finding exists is measured. Then the proxy's queue is drained.
 *
 * Reported per run: proxy req/s and CPU per request; every usage report (entries, route wall time, the ingest
 * process's CPU, the Postgres backends' CPU); the report windows (a cut and the reports sent back to back after it)
 * with their busy time and spacing: ingest keeps up when every window is done within the flush interval and windows
 * start every flush interval (a late window makes the proxy skip a tick); the proxy's pending-usage gauge (sampled
 * each second) and its failed deliveries; ingest CPU per proxied request. BENCH_KEEP=1 keeps the database (for
 * EXPLAIN) and prints its URL.
 */
import { fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { request } from "undici";
import { createTestDatabase, freePort } from "../test/support/db";
import { benchProxyEnv, untilAdminAnswers } from "./support";
import { APIS, benchRequest, benchRequests, CREDENTIALS, GRANTS, GRANTS_PER_PRINCIPAL, RESOURCES_PER_API, snapshotBody } from "./proxy-state";

const ROOT = path.resolve(import.meta.dirname, "..");
const KS = (process.env.BENCH_KEYS ?? "1000,20000").split(",").map(Number);
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 60);
const FLUSH_MS = Number(process.env.PROXY_USAGE_FLUSH_MS ?? 5_000);
const PROBE_AFTER_S = Math.min(20, Math.floor(WRK_SECONDS / 3));
const ADMIN_TOKEN = "bench-admin-token-0123456789";
const SERVICE_TOKEN = `tgs_${randomBytes(32).toString("base64url")}`;
const PROXY_NAME = "bench-e2e";
const TICK = 100;

const children: ChildProcess[] = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-signals-e2e-"));
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");
const log = (s: string) => console.log(`[signals-e2e] ${new Date().toISOString().slice(11, 19)} ${s}`);
const f = (n: number, d = 0) => n.toFixed(d);

function processCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const x = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(x[11]) + Number(x[12])) / TICK;
}
function machineCpu(): number {
  const [, ...v] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = v.map(Number);
  return (user + nice + system + irq + softirq + steal) / TICK;
}

interface Report {
  arrivedAt: number;
  doneAt: number;
  status: number;
  error?: string;
  bytes: number;
  wallMs: number;
  nodeCpuMs: number;
  pgCpuMs: number;
  pgBackends: number;
  entries: { grants: number; credentials: number; routes: number; shadow: number; signals: number };
  anomalies: string[];
}

async function metrics(adminUrl: string): Promise<{ pending: number; sent: number; failures: number; dropped: number }> {
  const text = await (await request(`${adminUrl}/metrics`)).body.text();
  const v = (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return { pending: v("tollgate_proxy_usage_pending_entries"), sent: v("tollgate_proxy_usage_reports_sent_total"), failures: v("tollgate_proxy_usage_report_failures_total"), dropped: v("tollgate_proxy_usage_dropped_total") };
}

/** The inventory of bench/proxy-state.ts, with its ids, set-based. */
async function seed(c: pg.Client, upstreamUrl: string, maxK: number, probes: ReturnType<typeof benchRequest>[]): Promise<void> {
  const P = CREDENTIALS / 2;
  const SCOPES = APIS * 10;
  await c.query(`CREATE FUNCTION pg_temp.u(k int, n bigint) RETURNS uuid IMMUTABLE LANGUAGE sql AS $$ SELECT (lpad(to_hex(k), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$`);
  const [{ id: env }] = (await c.query(`INSERT INTO "Environment" (id, name, tier) VALUES (gen_random_uuid(), 'production', 'production') RETURNING id`)).rows;
  await c.query(`INSERT INTO "Api" (id, name, "baseUrl", "environmentId", "proxyPrefix", "updatedAt") SELECT pg_temp.u(1, a), 'api' || a, $1, $2, '/api' || a, now() FROM generate_series(0, ${APIS - 1}) a`, [upstreamUrl, env]);
  // Per API: scopes 0-6 read, 7-8 write, 9 admin (new_endpoint watches write and admin).
  await c.query(`INSERT INTO "Scope" (id, "apiId", name, level)
    SELECT pg_temp.u(2, s), pg_temp.u(1, s / 10), 'api' || (s / 10) || ':s' || (s % 10), (CASE WHEN s % 10 = 9 THEN 'admin' WHEN s % 10 >= 7 THEN 'write' ELSE 'read' END)::"ScopeLevel"
    FROM generate_series(0, ${SCOPES - 1}) s`);
  // Endpoint m = route m of the snapshot: n = m / 2 (API n / 50, resource n % 50), even = collection, odd = item.
  const R = RESOURCES_PER_API;
  await c.query(`INSERT INTO "Endpoint" (id, "apiId", method, "pathTemplate")
    SELECT pg_temp.u(3, m), pg_temp.u(1, m / ${2 * R}), 'GET', '/res' || ((m / 2) % ${R}) || CASE WHEN m % 2 = 1 THEN '/{id}' ELSE '' END FROM generate_series(0, ${APIS * R * 2 - 1}) m`);
  await c.query(`INSERT INTO "EndpointScope" ("endpointId", "scopeId") SELECT pg_temp.u(3, m), pg_temp.u(2, (m / ${2 * R}) * 10 + ((m / 2) % ${R}) % 10) FROM generate_series(0, ${APIS * R * 2 - 1}) m`);
  await c.query(`INSERT INTO "Principal" (id, kind, "displayName", "homeEnvironmentId", "updatedAt") SELECT pg_temp.u(6, p), 'service_account', 'svc-' || p, $1, now() FROM generate_series(0, ${P - 1}) p`, [env]);
  await c.query(`INSERT INTO "Credential" (id, "principalId", prefix, hash, "createdAt", "lastUsedAt", origin)
    SELECT pg_temp.u(4, k), pg_temp.u(6, k / 2), 'tg_bench_' || k, encode(sha256(convert_to('tg_bench_' || k, 'UTF8')), 'hex'), now() - interval '400 days', now() - interval '1 day', 'seed'
    FROM generate_series(0, ${CREDENTIALS - 1}) k`);
  await c.query(`INSERT INTO "Grant" (id, "principalId", "scopeId", "environmentId", "grantedAt", "lastUsedAt", "updatedAt", origin)
    SELECT pg_temp.u(5, p * ${GRANTS_PER_PRINCIPAL} + j), pg_temp.u(6, p), pg_temp.u(2, (p + j * ${SCOPES / GRANTS_PER_PRINCIPAL}) % ${SCOPES}), $1,
           now() - interval '400 days', now() - interval '1 day', now(), 'seed'
    FROM generate_series(0, ${P - 1}) p, generate_series(0, ${GRANTS_PER_PRINCIPAL - 1}) j`, [env]);
  // The loaded keys' histories: their endpoint and network known for 30 days (last rewritten 30 minutes ago, as the
  // hourly rewrite leaves them), and a baseline of busy minutes (every 6 hours over 29 days, 200 requests each).
  const used = benchRequests(maxK);
  const creds = used.map((r) => r.credential);
  await c.query(`INSERT INTO "CredentialEndpointSeen" ("credentialId", "endpointId", "firstSeenAt", "lastSeenAt")
    SELECT u.c, u.e, now() - interval '30 days', now() - interval '30 minutes' FROM unnest($1::uuid[], $2::uuid[]) u(c, e) ON CONFLICT DO NOTHING`, [creds, used.map((r) => r.route)]);
  await c.query(`INSERT INTO "CredentialNetworkSeen" ("credentialId", network, "firstSeenAt", "lastSeenAt")
    SELECT u.c, '127.0.0.0/24', now() - interval '30 days', now() - interval '30 minutes' FROM unnest($1::uuid[]) u(c) ON CONFLICT DO NOTHING`, [creds]);
  await c.query(`INSERT INTO "CredentialMinuteUsage" ("credentialId", minute, "requestCount")
    SELECT u.c, date_trunc('minute', now() - interval '1 day' - h * interval '6 hours'), 200 FROM unnest($1::uuid[]) u(c), generate_series(0, 111) h`, [creds]);
  // The dormant keys: last used (and their grant) 120 days ago.
  for (const p of probes) {
    await c.query(`UPDATE "Grant" SET "lastUsedAt" = now() - interval '120 days' WHERE id = $1`, [p.grant]);
    await c.query(`UPDATE "Credential" SET "lastUsedAt" = now() - interval '120 days' WHERE id = $1`, [p.credential]);
  }
  await c.query(`INSERT INTO "ServiceToken" (id, name, prefix, hash, scopes) VALUES (gen_random_uuid(), 'bench proxy', $1, $2, ARRAY['usage:ingest', 'proxy:sync'])`, [
    SERVICE_TOKEN.slice(0, 12),
    createHash("sha256").update(SERVICE_TOKEN).digest("hex"),
  ]);
  await c.query(`INSERT INTO "Proxy" (id, name, "adminUrl", "adminToken", "environmentId") VALUES (gen_random_uuid(), $1, 'http://127.0.0.1:1', $2, $3)`, [PROXY_NAME, ADMIN_TOKEN, env]);
  await c.query(`VACUUM ANALYZE`);
}

/** Reports sent back to back after one cut form a window (the proxy sends the next queued report on the answer). */
function windows(reports: Report[]) {
  const out: { start: number; end: number; reports: Report[] }[] = [];
  for (const r of reports) {
    const w = out[out.length - 1];
    if (w && r.arrivedAt - w.end < 250) {
      w.reports.push(r);
      w.end = r.doneAt;
    } else out.push({ start: r.arrivedAt, end: r.doneAt, reports: [r] });
  }
  return out;
}

async function main() {
  const t0 = Date.now();
  log(`start ${new Date().toISOString()}, load average ${load()}; keys ${KS.join(", ")}, wrk ${WRK_SECONDS} s, flush ${FLUSH_MS} ms`);
  const maxK = Math.max(...KS);
  const usedPrincipals = new Set(benchRequests(maxK).map((r) => r.principal));
  // One dormant key per run, outside the loaded set (no shared principal, so its grant is used by nobody else).
  const probes: ReturnType<typeof benchRequest>[] = [];
  for (let i = maxK; probes.length < KS.length; i++) {
    const r = benchRequest(i);
    if (!usedPrincipals.has(r.principal) && !probes.some((p) => p.principal === r.principal)) probes.push(r);
  }

  const [upPort, dashPort, dataPort, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const up = fork(path.join(ROOT, "bench/proxy-upstream.ts"), [String(upPort)], { execArgv: ["--import", "tsx"], stdio: "ignore" });
  children.push(up);
  await new Promise((r) => up.once("message", r));
  const upstreamUrl = `http://127.0.0.1:${upPort}`;

  const tdb = await createTestDatabase();
  const keep = process.env.BENCH_KEEP === "1";
  const c = new pg.Client({ connectionString: tdb.url, application_name: "bench-poller" });
  await c.connect();
  try {
    const reports: Report[] = [];
    const dash = fork(path.join(ROOT, "bench/signals-e2e-dashboard.ts"), [String(dashPort)], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, DATABASE_URL: tdb.url },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.push(dash);
    await new Promise<void>((resolve) =>
      dash.on("message", (m: { kind: string } & Report) => {
        if (m.kind === "ready") resolve();
        else reports.push(m);
      }),
    );
    log(`dashboard (real usage route on the bench database) listening (before the proxy starts, so its first reports find it); load average ${load()}`);
    // The proxy starts and takes its state while the database is seeded (separate processes).
    const proxyLog = path.join(tmp, "proxy.log");
    const logFd = openSync(proxyLog, "w");
    const proxy = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "proxy/main.ts")], {
      cwd: ROOT,
      env: {
        ...benchProxyEnv({ dataPort, adminPort, adminToken: ADMIN_TOKEN, stateFile: path.join(tmp, "state.ndjson") }),
        PROXY_NAME,
        PROXY_SIGNALS: "true",
        PROXY_USAGE_FLUSH_MS: String(FLUSH_MS),
        DASHBOARD_URL: `http://127.0.0.1:${dashPort}`,
        DASHBOARD_TOKEN: SERVICE_TOKEN,
      },
      stdio: ["ignore", logFd, logFd],
    });
    closeSync(logFd);
    children.push(proxy);
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    const pushed = (async () => {
      await untilAdminAnswers(adminUrl, ADMIN_TOKEN, 1200, "proxy");
      const t = performance.now();
      const push = await request(`${adminUrl}/admin/v1/snapshot`, {
        method: "PUT",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/x-ndjson" },
        body: Readable.from(snapshotBody(upstreamUrl)),
        headersTimeout: 900_000,
        bodyTimeout: 900_000,
      });
      const text = await push.body.text();
      if (push.statusCode !== 200) throw new Error(`snapshot push failed: ${push.statusCode} ${text.slice(0, 300)}`);
      log(`proxy: snapshot of ${CREDENTIALS} credentials, ${GRANTS} grants pushed in ${f((performance.now() - t) / 1000, 1)} s`);
    })();
    const tSeed = performance.now();
    await seed(c, upstreamUrl, maxK, probes);
    const counts = (await c.query(`SELECT (SELECT count(*) FROM "Grant") AS grants, (SELECT count(*) FROM "Credential") AS credentials, (SELECT count(*) FROM "Endpoint") AS endpoints,
      (SELECT count(*) FROM "CredentialEndpointSeen") AS pairs, (SELECT count(*) FROM "CredentialMinuteUsage") AS minutes`)).rows[0];
    log(`database seeded in ${f((performance.now() - tSeed) / 1000, 1)} s: ${JSON.stringify(counts)}`);
    await pushed;


    const drain = async (what: string) => {
      const t = Date.now();
      for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        const m = await metrics(adminUrl);
        const last = reports[reports.length - 1];
        if (m.pending === 0 && (!last || Date.now() - last.doneAt > FLUSH_MS + 500)) return m;
        if (Date.now() - t > 300_000) throw new Error(`${what}: usage not drained in 300 s (pending ${m.pending})`);
      }
    };

    const summaries: Record<string, unknown>[] = [];
    for (const [n, K] of KS.entries()) {
      const lua = path.join(tmp, `requests-${K}.lua`);
      const reqs = benchRequests(K);
      writeFileSync(
        lua,
        `local reqs = {\n${reqs.map((r) => `{"${r.path}","Bearer ${r.key}"}`).join(",\n")}\n}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  local r = reqs[(i % #reqs) + 1]\n  return wrk.format("GET", r[1], { ["Authorization"] = r[2] })\nend\n`,
      );
      const dataUrl = `http://127.0.0.1:${dataPort}`;
      spawnSync("/usr/bin/wrk", ["-t1", "-c8", "-d3s", "-s", lua, dataUrl]); // warm-up: JIT, every key seen once
      await drain(`K=${K} warm-up`);

      const probe = probes[n];
      const m0 = await metrics(adminUrl);
      const cpu0 = { proxy: processCpu(proxy.pid!), dash: processCpu(dash.pid!), machine: machineCpu() };
      const first = reports.length;
      const loadBefore = load();
      const pendingSamples: number[] = [];
      const sampler = setInterval(() => void metrics(adminUrl).then((m) => pendingSamples.push(m.pending), () => {}), 1000);
      const start = Date.now();
      log(`K=${K}: wrk -t1 -c32 -d${WRK_SECONDS}s over ${K} keys; load average ${loadBefore}`);
      // wrk runs in a child; this process sends the dormant key's request meanwhile and watches for its finding.
      const wrkDone = new Promise<{ rps: number; requests: number; p50: number; p99: number }>((resolve, reject) => {
        const w = spawn("/usr/bin/wrk", ["-t1", "-c32", `-d${WRK_SECONDS}s`, "--latency", "-s", lua, dataUrl]);
        let out = "";
        w.stdout.on("data", (d: Buffer) => (out += d.toString()));
        w.on("close", (code) => {
          if (code !== 0) return reject(new Error(`wrk exited ${code}`));
          const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
          if (non2xx) return reject(new Error(`wrk saw ${non2xx[1]} non-2xx responses:\n${out}`));
          const ms = (label: string) => {
            const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(out);
            return m ? Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1) : NaN;
          };
          resolve({ rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]), requests: Number(/(\d+) requests in/.exec(out)![1]), p50: ms("50%"), p99: ms("99%") });
        });
      });
      await new Promise((r) => setTimeout(r, PROBE_AFTER_S * 1000));
      const pr = await request(`${dataUrl}${probe.path}`, { headers: { authorization: `Bearer ${probe.key}` } });
      await pr.body.dump();
      if (pr.statusCode !== 200) throw new Error(`dormant key's request answered ${pr.statusCode}`);
      const probeAt = Date.now();
      let findingMs: number | null = null;
      while (Date.now() - probeAt < 120_000) {
        const { rows } = await c.query(`SELECT "openedAt" FROM "Finding" WHERE "grantId" = $1 AND rule = 'reactivated'`, [probe.grant]);
        if (rows[0]) {
          findingMs = Date.now() - probeAt;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      log(`K=${K}: dormant key (120 days) → reactivated finding ${findingMs === null ? "NOT within 120 s" : `after ${f(findingMs / 1000, 1)} s`}`);
      const w = await wrkDone;
      const end = Date.now();
      const cpu1 = { proxy: processCpu(proxy.pid!), dash: processCpu(dash.pid!), machine: machineCpu() };
      const loadAtEnd = load();
      const m1 = await drain(`K=${K}`);
      clearInterval(sampler);
      const mine = reports.slice(first);
      const during = mine.filter((r) => r.arrivedAt < end);
      const win = windows(mine);
      const requests = w.requests + 1;
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const nodeMs = sum(mine.map((r) => r.nodeCpuMs));
      const pgMs = sum(mine.map((r) => r.pgCpuMs));
      const spacing = win.slice(1).map((x, i) => x.start - win[i].start);
      const busy = win.map((x) => x.end - x.start);
      const late = win.filter((x) => x.end - x.start > FLUSH_MS).length;
      const wide = spacing.filter((s) => s > FLUSH_MS * 1.5).length;
      const failed = mine.filter((r) => r.status !== 200);
      for (const r of mine) {
        const e = r.entries;
        console.log(
          `  report +${f((r.arrivedAt - start) / 1000, 1)} s: ${e.grants} grant-days, ${e.credentials} credentials, ${e.routes} routes, ${e.signals} signals; ` +
            `${f(r.wallMs)} ms wall, ingest process ${f(r.nodeCpuMs)} ms CPU, Postgres ${f(r.pgCpuMs)} ms CPU; ${r.status}${r.anomalies.length ? `; opened ${r.anomalies.join(", ")}` : ""}${r.error ? ` ${r.error}` : ""}`,
        );
      }
      const s = {
        keys: K,
        loadAverage: { before: loadBefore, atEnd: loadAtEnd },
        proxy: {
          rps: Math.round(w.rps),
          requests,
          p50Ms: w.p50,
          p99Ms: w.p99,
          cpuPerRequestUs: Number(f(((cpu1.proxy - cpu0.proxy) / requests) * 1e6, 1)),
        },
        machineCpuPerRequestUs: Number(f(((cpu1.machine - cpu0.machine) / requests) * 1e6, 1)),
        reports: {
          n: mine.length,
          duringLoad: during.length,
          failed: failed.length,
          entriesPerReport: { max: Math.max(...mine.map((r) => r.entries.grants + r.entries.credentials + r.entries.routes + r.entries.signals)) },
          signalsPerReport: { max: Math.max(...mine.map((r) => r.entries.signals)) },
          wallMs: { median: med(mine.map((r) => r.wallMs)), max: Math.max(...mine.map((r) => r.wallMs)) },
        },
        windows: {
          n: win.length,
          reportsPerWindow: { median: med(win.map((x) => x.reports.length)), max: Math.max(...win.map((x) => x.reports.length)) },
          keysPerWindow: { median: med(win.map((x) => sum(x.reports.map((r) => r.entries.signals)))) },
          busyMs: { median: Math.round(med(busy)), max: Math.round(Math.max(...busy)) },
          spacingMs: { median: Math.round(med(spacing)), max: Math.round(Math.max(...spacing)) },
          overFlushInterval: late,
          skippedTicks: wide,
        },
        pendingEntries: { max: Math.max(...pendingSamples), samples: pendingSamples.length, last: pendingSamples[pendingSamples.length - 1] },
        proxyReportFailures: m1.failures - m0.failures,
        proxyUsageDropped: m1.dropped - m0.dropped,
        ingestCpu: {
          nodeMs: Math.round(nodeMs),
          postgresMs: Math.round(pgMs),
          perProxiedRequestUs: Number(f(((nodeMs + pgMs) * 1000) / requests, 2)),
          nodePerRequestUs: Number(f((nodeMs * 1000) / requests, 2)),
          postgresPerRequestUs: Number(f((pgMs * 1000) / requests, 2)),
          ingestProcessWholeRunMs: Math.round((cpu1.dash - cpu0.dash) * 1000),
        },
        reactivatedFindingSeconds: findingMs === null ? null : Number(f(findingMs / 1000, 1)),
        keptUp: late === 0 && wide === 0 && failed.length === 0 && m1.failures === m0.failures,
      };
      log(`K=${K}: ${JSON.stringify(s)}`);
      summaries.push(s);
    }
    const proxyWarnings = readFileSync(proxyLog, "utf8").split("\n").filter((l) => /usage report/.test(l));
    log(`proxy log lines about usage reports: ${proxyWarnings.length}${proxyWarnings.length ? `\n${proxyWarnings.slice(0, 5).join("\n")}` : ""}`);
    console.log(JSON.stringify({ date: new Date().toISOString(), loadAverageAtEnd: load(), totalSeconds: Math.round((Date.now() - t0) / 1000), runs: summaries }, null, 2));
  } finally {
    await c.end();
    await stopChildren(); // the dashboard's connections go before the database does
    if (keep) log(`database kept: ${tdb.url}`);
    else await tdb.drop();
  }
}

const med = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);

async function stopChildren() {
  await Promise.all(
    children
      .filter((ch) => ch.exitCode === null && ch.signalCode === null)
      .map(
        (ch) =>
          new Promise<void>((resolve) => {
            const hard = setTimeout(() => ch.kill("SIGKILL"), 5_000);
            ch.once("exit", () => (clearTimeout(hard), resolve()));
            ch.kill("SIGTERM");
          }),
      ),
  );
}
async function cleanup() {
  await stopChildren();
  rmSync(tmp, { recursive: true, force: true });
}

main()
  .then(async () => (await cleanup(), process.exit(0)))
  .catch(async (e) => {
    console.error(`[signals-e2e] ${e instanceof Error ? e.stack : String(e)}`);
    await cleanup();
    process.exit(1);
  });
