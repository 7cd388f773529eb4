/**
 * Enforcement proxy benchmark (`npx tsx bench/proxy.ts`), one run, side by side:
 *   1. a minimal upstream directly;
 *   2. the same upstream behind nginx as a plain reverse proxy (1 worker, upstream keep-alive);
 *   3. the same upstream behind the Tollgate proxy holding 200,000 credentials,
 *      1,000,000 grants and 2,000 endpoint templates (pushed as one snapshot).
 * Reports req/s and p50/p99 (wrk, closed loop, 5 interleaved rounds; medians), the Tollgate/nginx ratio, added
 * p99 at a fixed moderate rate (open loop), proxy RSS (and its peaks: loading the state, serving it, and
 * replacing it in full while serving), and revoke-to-first-403 latency over 250 revocations.
 *   4. then (BENCH_NGINX=0 to skip) the nginx data plane (proxy-nginx/) against plain nginx at 1 and 2 workers with
 *      the same state, upstream and rounds (bench/proxy-nginx.ts, run after the Node processes have stopped):
 *      its rows join the table, its figures and targets the final JSON.
 * Results go into docs/BENCHMARKS.md by hand.
 */
import { fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { Pool, request } from "undici";
import { startNginx } from "../proxy/nginx-support";
import { freePort } from "../test/support/db";
import { nginxPlaneMissing } from "../proxy-nginx/test-support";
import { runNginxPlaneBench, type NginxPlaneResult } from "./proxy-nginx";
import { benchProxyEnv, untilAdminAnswers } from "./support";
import { allowedRequest, APIS, benchRequests, CREDENTIALS, GRANTS, GRANTS_PER_PRINCIPAL, RESOURCES_PER_API, snapshotBody } from "./proxy-state";

const ROOT = path.resolve(import.meta.dirname, "..");
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WRK_CONNECTIONS = 32;
const FIXED_RATE = Number(process.env.BENCH_FIXED_RATE ?? 1000);
const FIXED_SECONDS = 5;
const REVOCATIONS = 250;
const ADMIN_TOKEN = "bench-admin-token-0123456789";

const children: ChildProcess[] = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-proxy-"));

const TICK = 100; // USER_HZ: /proc's clock ticks per second on Linux

/** Busy CPU seconds of the whole machine (all cores) since boot, from /proc/stat. */
function machineCpuSeconds(): number {
  const [, ...v] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = v.map(Number);
  return (user + nice + system + irq + softirq + steal) / TICK;
}

/** User and system CPU seconds of one process (all its threads), from /proc/<pid>/stat. */
function processCpu(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / TICK, system: Number(fields[12]) / TICK };
}

function rss(pid: number): { rssMb: number; peakMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)![1]);
  return { rssMb: Math.round(kb("VmRSS") / 1024), peakMb: Math.round(kb("VmHWM") / 1024) };
}

/** Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs), so the next peak is one phase's own. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

function wrk(url: string, script: string): { rps: number; p50: number; p99: number } {
  const r = spawnSync("/usr/bin/wrk", ["-t1", `-c${WRK_CONNECTIONS}`, `-d${WRK_SECONDS}s`, "--latency", "-s", script, url], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const out = r.stdout;
  const ms = (label: string) => {
    const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) throw new Error(`wrk output without ${label}:\n${out}`);
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} non-2xx responses against ${url}`);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]), p50: ms("50%"), p99: ms("99%") };
}

/** Open-loop load at a fixed rate; latency counted from each request's scheduled time. */
async function fixedRate(base: string, reqs: { path: string; key: string }[], seconds = FIXED_SECONDS): Promise<{ p50: number; p99: number; errors: number }> {
  const pool = new Pool(base, { connections: 64 });
  const lat: number[] = [];
  let errors = 0;
  const total = FIXED_RATE * seconds;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / FIXED_RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const rq = reqs[i % reqs.length];
    // Late sends count from their due time (no coordinated omission); early ones from the actual send.
    const from = Math.min(due, performance.now());
    inflight.push(
      pool
        .request({ path: rq.path, method: "GET", headers: { authorization: `Bearer ${rq.key}` } })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode !== 200) errors++;
          lat.push(performance.now() - from);
        })
        .catch(() => void errors++),
    );
  }
  await Promise.all(inflight);
  await pool.close();
  lat.sort((x, y) => x - y);
  return { p50: lat[Math.floor(lat.length * 0.5)], p99: lat[Math.floor(lat.length * 0.99)], errors };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const f = (n: number, d = 2) => n.toFixed(d);

async function main() {
  const t0 = Date.now();
  const [upPort, nginxPort, dataPort, adminPort, floorPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];

  const up = fork(path.join(ROOT, "bench/proxy-upstream.ts"), [String(upPort)], { execArgv: ["--import", "tsx"], stdio: "ignore" });
  children.push(up);
  await new Promise((r) => up.once("message", r));
  const upstreamUrl = `http://127.0.0.1:${upPort}`;
  const floor = fork(path.join(ROOT, "bench/proxy-floor.ts"), [String(floorPort), upstreamUrl], { execArgv: ["--import", "tsx"], stdio: "ignore" });
  children.push(floor);
  await new Promise((r) => floor.once("message", r));

  const nginx = await startNginx(
    nginxPort,
    `location / { proxy_pass http://bench_upstream; proxy_http_version 1.1; proxy_set_header Connection ""; }`,
    `upstream bench_upstream { server 127.0.0.1:${upPort}; keepalive 64; }`,
  );

  // BENCH_TRACE_GC=<file>: run the proxy with --trace-gc and keep its output there (to read pause times).
  const traceGc = process.env.BENCH_TRACE_GC;
  // BENCH_PROXY_NODE_ARGS: extra Node flags for the proxy (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const extra = (process.env.BENCH_PROXY_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const proxy = spawn(process.execPath, [...extra, ...(traceGc ? ["--trace-gc"] : []), "--import", "tsx", path.join(ROOT, "proxy/main.ts")], {
    cwd: ROOT,
    env: benchProxyEnv({ dataPort, adminPort, adminToken: ADMIN_TOKEN, stateFile: path.join(tmp, "state.ndjson"), accessLog: process.env.BENCH_ACCESS_LOG }),
    stdio: ["ignore", traceGc ? "pipe" : "ignore", "inherit"],
  });
  if (traceGc) proxy.stdout!.pipe(createWriteStream(traceGc));
  children.push(proxy);
  const proxyStarted = Date.now();
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  await untilAdminAnswers(adminUrl, ADMIN_TOKEN, 1200, "proxy"); // a loaded machine starts tsx slowly

  console.log(`[proxy] pushing snapshot: ${CREDENTIALS} credentials, ${GRANTS} grants, ${APIS * RESOURCES_PER_API * 2} endpoint templates`);
  const tPush = performance.now();
  const push = await request(`${adminUrl}/admin/v1/snapshot`, {
    method: "PUT",
    headers: { ...auth, "content-type": "application/x-ndjson" },
    body: Readable.from(snapshotBody(upstreamUrl)),
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
  });
  const pushResult = await push.body.text();
  if (push.statusCode !== 200) throw new Error(`snapshot push failed: ${push.statusCode} ${pushResult.slice(0, 500)}`);
  const pushSeconds = (performance.now() - tPush) / 1000;
  const state = (await (await request(`${adminUrl}/admin/v1/state`, { headers: auth })).body.json()) as { counts: Record<string, number> };
  await new Promise((r) => setTimeout(r, 1000));
  const memAfterLoad = rss(proxy.pid!);
  console.log(`[proxy] snapshot applied and persisted in ${f(pushSeconds, 1)} s; counts ${JSON.stringify(state.counts)}; RSS ${memAfterLoad.rssMb} MB (peak ${memAfterLoad.peakMb} MB)`);
  // From here the peak is the load phases' own (the snapshot's is reported above).
  const peakReset = resetPeak(proxy.pid!);

  // 1,000 distinct allowed (key, path) pairs spread over the whole state.
  const reqs = benchRequests();
  const lua = path.join(tmp, "requests.lua");
  writeFileSync(
    lua,
    `local reqs = {\n${reqs.map((r) => `{"${r.path}","Bearer ${r.key}"}`).join(",\n")}\n}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  local r = reqs[(i % #reqs) + 1]\n  return wrk.format("GET", r[1], { ["Authorization"] = r[2] })\nend\n`,
  );

  const targets = { direct: upstreamUrl, nginx: nginx.url, tollgate: `http://127.0.0.1:${dataPort}`, nodeFloor: `http://127.0.0.1:${floorPort}` };
  // Warm-up (JIT, connection pools), then the measured runs.
  for (const url of Object.values(targets)) spawnSync("/usr/bin/wrk", ["-t1", "-c8", "-d2s", "-s", lua, url]);
  // Closed loop in ROUNDS interleaved rounds (direct, nginx, Tollgate, direct, ...): this machine's speed drifts
  // by tens of percent over a minute (a shared VM), so each Tollgate run is compared with the nginx run just
  // before it, and the figures are the medians over the rounds.
  type Run = ReturnType<typeof wrk> & { cpu: { machineUs: number; proxyUs: number; proxyUserUs: number; proxySystemUs: number } };
  const runs: Record<string, Run[]> = { direct: [], nginx: [], tollgate: [], nodeFloor: [] };
  const roundRatios: number[] = [];
  const floorRatios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, url] of Object.entries(targets)) {
      // The Node process under test: the Tollgate proxy, or the floor's pass-through.
      const pid = name === "nodeFloor" ? floor.pid! : proxy.pid!;
      const before = { machine: machineCpuSeconds(), proxy: processCpu(pid) };
      const r = wrk(url, lua);
      const after = { machine: machineCpuSeconds(), proxy: processCpu(pid) };
      const us = (seconds: number) => Math.round((seconds / (r.rps * WRK_SECONDS)) * 1e7) / 10;
      const cpu = {
        machineUs: us(after.machine - before.machine),
        proxyUs: us(after.proxy.user + after.proxy.system - before.proxy.user - before.proxy.system),
        proxyUserUs: us(after.proxy.user - before.proxy.user),
        proxySystemUs: us(after.proxy.system - before.proxy.system),
      };
      runs[name].push({ ...r, cpu });
      console.log(
        `[proxy] round ${round} wrk ${name}: ${f(r.rps, 0)} req/s, p50 ${f(r.p50)} ms, p99 ${f(r.p99)} ms; CPU per request: machine ${cpu.machineUs} µs` +
          (name === "tollgate" || name === "nodeFloor"
            ? `, of which the ${name === "tollgate" ? "Tollgate proxy" : "pass-through"} ${cpu.proxyUs} µs (user ${cpu.proxyUserUs}, system ${cpu.proxySystemUs})`
            : ""),
      );
    }
    roundRatios.push(runs.tollgate[round - 1].rps / runs.nginx[round - 1].rps);
    floorRatios.push(runs.nodeFloor[round - 1].rps / runs.nginx[round - 1].rps);
    console.log(`[proxy] round ${round} Tollgate/nginx ${f(roundRatios[round - 1])}x; Node pass-through/nginx ${f(floorRatios[round - 1])}x`);
  }
  const median = (xs: number[]) => pct(xs, 0.5);
  const closed: Record<string, { rps: number; p50: number; p99: number; cpuPerRequestUs: Run["cpu"] }> = {};
  for (const [name, rs] of Object.entries(runs)) {
    closed[name] = {
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      cpuPerRequestUs: {
        machineUs: median(rs.map((r) => r.cpu.machineUs)),
        proxyUs: median(rs.map((r) => r.cpu.proxyUs)),
        proxyUserUs: median(rs.map((r) => r.cpu.proxyUserUs)),
        proxySystemUs: median(rs.map((r) => r.cpu.proxySystemUs)),
      },
    };
    console.log(`[proxy] wrk ${name}, median of ${ROUNDS}: ${f(closed[name].rps, 0)} req/s, p50 ${f(closed[name].p50)} ms, p99 ${f(closed[name].p99)} ms`);
  }
  const open: Record<string, Awaited<ReturnType<typeof fixedRate>>> = {};
  if (traceGc) console.log(`[proxy] open-loop phase starts at proxy uptime ~${Math.round((Date.now() - proxyStarted) / 1000)} s`);
  for (const [name, url] of Object.entries(targets).filter(([n]) => n !== "nodeFloor")) {
    await fixedRate(url, reqs, 1); // warm-up: connections and JIT for the open-loop client
    open[name] = await fixedRate(url, reqs);
    console.log(`[proxy] ${FIXED_RATE} req/s fixed ${name}: p50 ${f(open[name].p50)} ms, p99 ${f(open[name].p99)} ms, errors ${open[name].errors}`);
  }
  const memAfterLoadTest = rss(proxy.pid!);
  console.log(`[proxy] after the load phases: RSS ${memAfterLoadTest.rssMb} MB (peak ${memAfterLoadTest.peakMb} MB${peakReset ? " during them" : " since start"})`);

  // Revoke-to-first-403: revoke a grant that was just allowed, then call again at once.
  const data = new Pool(targets.tollgate, { connections: 1 });
  const adminPool = new Pool(adminUrl, { connections: 1 });
  const revokeMs: number[] = [];
  const ackMs: number[] = [];
  for (let i = 0; i < REVOCATIONS; i++) {
    const c = (i * 104729 + 17) % CREDENTIALS;
    // Use a grant whose scope is the only one the route accepts, so the revoke must flip the answer.
    const rq = allowedRequest(c, i % GRANTS_PER_PRINCIPAL, 1_000_000 + i);
    const before = await data.request({ path: rq.path, method: "GET", headers: { authorization: `Bearer ${rq.key}` } });
    await before.body.dump();
    if (before.statusCode !== 200) throw new Error(`expected 200 before revoke, got ${before.statusCode}`);
    // The revoke is sent and, without waiting for its acknowledgement, the same
    // call is repeated until the first 403: the time until enforcement. The
    // acknowledgement (after the journal fsync) is timed separately.
    const t = performance.now();
    const ack = adminPool
      .request({ path: `/admin/v1/grants/${rq.grant}`, method: "DELETE", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ idempotencyKey: `bench-revoke-${i}` }) })
      .then(async (rv) => {
        await rv.body.dump();
        if (rv.statusCode !== 200) throw new Error(`revoke failed: ${rv.statusCode}`);
        return performance.now() - t;
      });
    for (;;) {
      const after = await data.request({ path: rq.path, method: "GET", headers: { authorization: `Bearer ${rq.key}` } });
      await after.body.dump();
      if (after.statusCode === 403) break;
      if (after.statusCode !== 200) throw new Error(`unexpected ${after.statusCode} while revoking`);
      if (performance.now() - t > 5000) throw new Error("revoke not enforced within 5 s");
    }
    revokeMs.push(performance.now() - t);
    ackMs.push(await ack);
    // The acknowledged revoke holds.
    const again = await data.request({ path: rq.path, method: "GET", headers: { authorization: `Bearer ${rq.key}` } });
    await again.body.dump();
    if (again.statusCode !== 403) throw new Error(`revoked grant honoured again: ${again.statusCode}`);
  }
  await data.close();
  await adminPool.close();

  // A full replacement of the state while it is being served (what a reconcile push or a
  // dashboard pull does): the old state serves until the new one is complete, so both are held.
  resetPeak(proxy.pid!);
  const tReplace = performance.now();
  const replace = await request(`${adminUrl}/admin/v1/snapshot`, {
    method: "PUT",
    headers: { ...auth, "content-type": "application/x-ndjson" },
    body: Readable.from(snapshotBody(upstreamUrl, "bench-replacement")),
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
  });
  const replaceResult = await replace.body.text();
  if (replace.statusCode !== 200) throw new Error(`replacement push failed: ${replace.statusCode} ${replaceResult.slice(0, 500)}`);
  const replaceSeconds = (performance.now() - tReplace) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const memReplacement = rss(proxy.pid!);
  console.log(`[proxy] full replacement applied in ${f(replaceSeconds, 1)} s; RSS ${memReplacement.rssMb} MB one second later, peak ${memReplacement.peakMb} MB during it`);

  // The Node side is done: its processes stop, so the nginx phase has the machine (the upstream stays).
  await nginx.stop();
  await stopChildren(children.filter((c) => c !== up));
  let nginxPlane: NginxPlaneResult | null = null;
  const skipNginx = process.env.BENCH_NGINX === "0" ? "BENCH_NGINX=0" : nginxPlaneMissing();
  if (skipNginx === null) nginxPlane = await runNginxPlaneBench({ upstreamUrl });
  else console.log(`[proxy] nginx data plane skipped: ${skipNginx}`);

  const ratio = median(roundRatios);
  const addedP99 = open.tollgate.p99 - open.direct.p99;
  const addedP99VsNginx = open.tollgate.p99 - open.nginx.p99;
  const summary = {
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(1))),
    state: state.counts,
    snapshotPushSeconds: Number(f(pushSeconds, 1)),
    wrk: closed,
    roundRatios: roundRatios.map((r) => Number(f(r))),
    nodeFloorToNginx: Number(f(median(floorRatios))),
    fixedRate: { rate: FIXED_RATE, ...open },
    ratioTollgateToNginx: Number(f(ratio)),
    addedP99MsVsDirect: Number(f(addedP99)),
    addedP99MsVsNginx: Number(f(addedP99VsNginx)),
    rss: { afterSnapshot: memAfterLoad, afterLoad: memAfterLoadTest, replacement: { seconds: Number(f(replaceSeconds, 1)), ...memReplacement } },
    revokeTo403Ms: { n: revokeMs.length, p50: Number(f(pct(revokeMs, 0.5))), p99: Number(f(pct(revokeMs, 0.99))), max: Number(f(Math.max(...revokeMs))) },
    revokeAckMs: { p50: Number(f(pct(ackMs, 0.5))), p99: Number(f(pct(ackMs, 0.99))), max: Number(f(Math.max(...ackMs))) },
    targets: {
      throughput: ratio >= 0.5 ? "met" : "MISSED",
      revokeP99: pct(revokeMs, 0.99) <= 10 ? "met" : "MISSED",
      // Serving the state: RSS after the load phases and the peaks of loading it and of serving it.
      rss: Math.max(memAfterLoadTest.rssMb, memAfterLoad.peakMb, memAfterLoadTest.peakMb) <= 400 ? "met" : "MISSED",
      rssPeakDuringReplacement: memReplacement.peakMb <= 400 ? "met" : "MISSED",
      ...(nginxPlane ? Object.fromEntries(Object.entries(nginxPlane.targets).map(([k, v]) => [`nginxPlane${k[0].toUpperCase()}${k.slice(1)}`, v])) : {}),
    },
    nginxPlane,
    totalSeconds: Math.round((Date.now() - t0) / 1000),
  };
  console.log(`[proxy] revoke-to-first-403 over ${REVOCATIONS}: p50 ${summary.revokeTo403Ms.p50} ms, p99 ${summary.revokeTo403Ms.p99} ms; revoke acknowledged (fsynced) p50 ${summary.revokeAckMs.p50} ms, p99 ${summary.revokeAckMs.p99} ms`);
  console.log(`[proxy] Node pass-through (bench/proxy-floor.ts)/nginx ${f(median(floorRatios))}x: the ceiling for any Node proxy on this stack here`);
  console.log(`[proxy] Tollgate/nginx throughput ${f(ratio)}x (median of rounds ${roundRatios.map((r) => f(r)).join(", ")}); added p99 at ${FIXED_RATE} req/s: ${f(addedP99)} ms vs direct, ${f(addedP99VsNginx)} ms vs nginx`);
  printTable(closed, median(floorRatios), ratio, nginxPlane);
  console.log(JSON.stringify(summary, null, 2));
}

/** Every data plane's median req/s, each against plain nginx at its worker count. */
function printTable(closed: Record<string, { rps: number }>, floorRatio: number, ratio: number, plane: NginxPlaneResult | null): void {
  const rows: [string, string, number, string][] = [
    ["plain nginx (Node phase)", "1", closed.nginx.rps, "1.00x"],
    ["Tollgate Node proxy", "1 process", closed.tollgate.rps, `${f(ratio)}x`],
    ["Node pass-through (bench/proxy-floor.ts)", "1 process", closed.nodeFloor.rps, `${f(floorRatio)}x`],
  ];
  for (const [w, t] of Object.entries(plane?.throughput ?? {})) {
    rows.push([`plain nginx (nginx phase)`, w, t.plain, "1.00x"], ["Tollgate nginx data plane", w, t.plane, `${f(t.ratio)}x`]);
  }
  console.log(`[proxy] side by side, medians of ${ROUNDS} interleaved round(s); ratios per round against plain nginx at the same worker count:`);
  console.log("| data plane | workers | req/s | vs plain nginx |\n|---|---|---|---|");
  for (const [name, w, rps, r] of rows) console.log(`| ${name} | ${w} | ${f(rps, 0)} | ${r} |`);
  if (plane) {
    const m = plane.memory;
    console.log(
      `[proxy] nginx data plane: revoke -> first 403 p50 ${plane.revokeTo403Ms.p50} ms, p99 ${plane.revokeTo403Ms.p99} ms (2 workers); ` +
        `memory: dict used ${m.dictUsedMb} MB (configured ${m.dictConfiguredMb}) + workers ${m.workerPrivateMb.join(" + ")} MB = ${m.totalMb} MB` +
        (plane.fullReload ? `; a second full load ${plane.fullReload.ok ? "fits" : "does NOT fit"} (peak ${plane.fullReload.dictUsedPeakMb} MB used)` : ""),
    );
  }
}

/** SIGTERM first (the proxy drains and exits, so e.g. --cpu-prof gets written), SIGKILL after 5 s. */
async function stopChildren(list: ChildProcess[]) {
  await Promise.all(
    list
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map(
        (c) =>
          new Promise<void>((resolve) => {
            const hard = setTimeout(() => c.kill("SIGKILL"), 5_000);
            c.once("exit", () => (clearTimeout(hard), resolve()));
            c.kill("SIGTERM");
          }),
      ),
  );
}

async function cleanup() {
  await stopChildren(children);
  rmSync(tmp, { recursive: true, force: true });
}

main()
  .then(async () => (await cleanup(), process.exit(0)))
  .catch(async (e) => {
    console.error(`[proxy] ${e instanceof Error ? e.stack : String(e)}`);
    await cleanup();
    process.exit(1);
  });
