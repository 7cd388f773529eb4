/**
 * Instructions per proxied request, counted by valgrind's callgrind, for two versions of the proxy
 * (`npx tsx bench/proxy-instructions.ts --base <dir>`; <dir> as for bench/proxy-ab.ts). Instruction counts do not
 * depend on how busy the machine is, so this compares two versions on a shared machine where wall-clock A/B runs
 * cannot (docs/BENCHMARKS.md, issue 17).
 *
 * For each tree: the proxy is bundled with esbuild (so no TypeScript loader runs under valgrind) and started under
 * callgrind (BENCH_NODE_FLAGS, default `--single-threaded --predictable`: normal JIT, no concurrent compiler or GC
 * threads, and V8's heuristics made independent of time; `--jitless` cannot run it: undici's HTTP parser is
 * WebAssembly, which --jitless turns off); it is loaded with that tree's bench state made small
 * (BENCH_CREDENTIALS/BENCH_GRANTS), then a client in this process sends WARMUP and then N allowed requests one after
 * another on one keep-alive connection (one request per event-loop turn: no batching that depends on timing), and
 * the proxy is stopped. The same run with N = 0 is subtracted: (Ir(N) - Ir(0)) / N is the cost of one request,
 * start-up, state loading, warm-up and shutdown cancelling out. Each run is repeated REPEATS times.
 *
 * Measured 2026-12-06: without --predictable the totals were not repeatable at N = 2,000 (the same tree twice: 407k
 * and 439k per request: compilation and GC moved with wall-clock time); with it the JIT-compiled code, builtins,
 * compiler and Node's C++ repeat within 1% and the totals within 3-6% (GC still falls in steps). Keep the
 * callgrind files (BENCH_KEEP=1) and split them by part with bench/callgrind-diff.py.
 *
 * One tree against itself with a setting changed, as in bench/proxy-ab.ts: `--base .` with BENCH_AB_BASE_ENV /
 * BENCH_AB_CURRENT_ENV ("NAME=value,..."), e.g. BENCH_AB_BASE_ENV=PROXY_SIGNALS=false for the usage signals' cost
 * per request (issue 22).
 */
import { fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { Client, request } from "undici";
import { freePort } from "../test/support/db";
import { benchProxyEnv, untilAdminAnswers } from "./support";

const baseArg = process.argv.indexOf("--base");
if (baseArg < 0 || !process.argv[baseArg + 1]) throw new Error("usage: npx tsx bench/proxy-instructions.ts --base <dir with the other version's tree>");
const BASE = path.resolve(process.argv[baseArg + 1]);
const CURRENT = path.resolve(import.meta.dirname, "..");
const N = Number(process.env.BENCH_REQUESTS ?? 2_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 4);
// Priority, not counts: on a machine shared by many, a process under valgrind at nice 0 gets a few % of a core.
const NICE = process.env.BENCH_NICE ?? "-10";
const JIT_FLAGS = (process.env.BENCH_NODE_FLAGS ?? "--single-threaded --predictable").split(" ").filter(Boolean);
const ADMIN_TOKEN = "bench-admin-token-0123456789";
/** "A=1,B=2" -> { A: "1", B: "2" }: added to that side's proxy environment. */
const envList = (v: string | undefined): Record<string, string> =>
  Object.fromEntries((v ?? "").split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
const SIDE_ENV = { base: envList(process.env.BENCH_AB_BASE_ENV), current: envList(process.env.BENCH_AB_CURRENT_ENV) };
// Small state: under callgrind a 1M-grant push takes an hour; the request path is hash lookups whose instruction
// count does not grow with the table size.
const SMALL_STATE = { BENCH_CREDENTIALS: process.env.BENCH_CREDENTIALS ?? "2000", BENCH_GRANTS: process.env.BENCH_GRANTS ?? "10000" };
Object.assign(process.env, SMALL_STATE);
const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-ir-"));
const children: ChildProcess[] = [];

function bundle(root: string): string {
  const dir = path.join(root, ".bench-build");
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, "proxy.mjs");
  const r = spawnSync(path.join(CURRENT, "node_modules/.bin/esbuild"), [path.join(root, "proxy/main.ts"), "--bundle", "--platform=node", "--format=esm", "--target=node20", "--packages=external", `--outfile=${out}`], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`esbuild failed for ${root}: ${r.stderr}`);
  return out;
}

async function pushState(root: string, adminUrl: string, upstreamUrl: string) {
  const { stateRecords } = await import(path.join(root, "bench/proxy-state.ts"));
  let body = JSON.stringify({ idempotencyKey: "ir-snapshot" }) + "\n";
  for (const r of stateRecords(upstreamUrl) as Iterable<{ kind: string; value: unknown }>) body += `{"kind":"${r.kind}","value":${JSON.stringify(r.value)}}\n`;
  const res = await request(`${adminUrl}/admin/v1/snapshot`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/x-ndjson" },
    body: Readable.from([body]),
    headersTimeout: 900_000,
    bodyTimeout: 900_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`snapshot push to ${root} failed: ${res.statusCode} ${text.slice(0, 300)}`);
}

/** One proxy run under callgrind: start, load, WARMUP + n requests, stop; returns the total instructions (Ir). */
async function countedRun(root: string, script: string, upstreamUrl: string, reqs: { path: string; key: string }[], n: number, label: string, extraEnv: Record<string, string>): Promise<number> {
  const outFile = path.join(tmp, `${label}.callgrind`);
  // Ports 0: a proxy under valgrind takes minutes to bind, and a port picked free beforehand may meanwhile be taken
  // by any other process on a shared machine. The proxy logs the ports it got ("proxy listening", at info level;
  // the access log stays off, so no line is written per request).
  const env = { ...benchProxyEnv({ dataPort: 0, adminPort: 0, adminToken: ADMIN_TOKEN, stateFile: path.join(tmp, `${label}.ndjson`) }), PROXY_LOG_LEVEL: "info", ...extraEnv };
  const child = spawn("nice", ["-n", NICE, "valgrind", "--tool=callgrind", `--callgrind-out-file=${outFile}`, process.execPath, ...JIT_FLAGS, script], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  let stdout = "";
  const listening = new Promise<{ dataPort: number; adminPort: number }>((resolve) => {
    child.stdout!.on("data", (d) => {
      stdout += d;
      const m = /"dataPort":(\d+),"adminPort":(\d+)/.exec(stdout);
      if (m) resolve({ dataPort: Number(m[1]), adminPort: Number(m[2]) });
    });
  });
  children.push(child);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const ports = await Promise.race([listening, exited.then((code) => ({ code }))]);
  if ("code" in ports) throw new Error(`${label}: the proxy exited (${ports.code}) before listening\n${stderr.slice(-2000)}`);
  const { dataPort, adminPort } = ports;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await untilAdminAnswers(adminUrl, ADMIN_TOKEN, 100, `proxy of ${root} under callgrind`);
  await pushState(root, adminUrl, upstreamUrl);
  const client = new Client(`http://127.0.0.1:${dataPort}`, { pipelining: 1, keepAliveTimeout: 600_000, headersTimeout: 600_000, bodyTimeout: 600_000 });
  for (let i = 0; i < WARMUP + n; i++) {
    const rq = reqs[i % reqs.length];
    const res = await client.request({ path: rq.path, method: "GET", headers: { authorization: `Bearer ${rq.key}` } });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`${label}: ${rq.path} answered ${res.statusCode}`);
  }
  await client.close();
  child.kill("SIGTERM");
  await exited;
  const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(outFile, "utf8"));
  if (!m) throw new Error(`${label}: no callgrind totals\n${stderr.slice(-2000)}`);
  return Number(m[1]);
}

async function main() {
  const upPort = await freePort();
  const up = fork(path.join(CURRENT, "bench/proxy-upstream.ts"), [String(upPort)], { execArgv: ["--import", "tsx"], stdio: "ignore" });
  children.push(up);
  await new Promise((r) => up.once("message", r));
  const upstreamUrl = `http://127.0.0.1:${upPort}`;
  const { benchRequests } = await import(path.join(CURRENT, "bench/proxy-state.ts"));
  const reqs = benchRequests() as { path: string; key: string }[];
  const trees = { base: BASE, current: CURRENT };
  const scripts = { base: bundle(BASE), current: bundle(CURRENT) };
  console.log(`[proxy-ir] node ${process.version} ${JIT_FLAGS.join(" ")}; base env ${JSON.stringify(SIDE_ENV.base)}, current env ${JSON.stringify(SIDE_ENV.current)}; state ${SMALL_STATE.BENCH_CREDENTIALS} credentials, ${SMALL_STATE.BENCH_GRANTS} grants; warm-up ${WARMUP}, N ${N}`);
  // Counts do not depend on what runs beside them, so the runs go BENCH_PARALLEL at a time (each is one
  // single-threaded process under valgrind; on a shared machine this is what makes the whole fit in minutes).
  const jobs: { rep: number; name: "base" | "current"; n: number }[] = [];
  for (let rep = 0; rep < REPEATS; rep++) for (const name of ["base", "current"] as const) for (const n of [0, N]) jobs.push({ rep, name, n });
  const totals = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < jobs.length) {
        const j = jobs[next++];
        const label = `${j.name}-${j.rep}-${j.n}`;
        totals.set(label, await countedRun(trees[j.name], scripts[j.name], upstreamUrl, reqs, j.n, label, SIDE_ENV[j.name]));
        console.log(`[proxy-ir] ${label}: Ir ${totals.get(label)!.toLocaleString("en")}`);
      }
    }),
  );
  const perRequest: Record<string, number[]> = { base: [], current: [] };
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const name of ["base", "current"] as const) {
      const idle = totals.get(`${name}-${rep}-0`)!;
      const busy = totals.get(`${name}-${rep}-${N}`)!;
      perRequest[name].push((busy - idle) / N);
      console.log(`[proxy-ir] ${name} repeat ${rep + 1}: Ir(0) ${idle.toLocaleString("en")}, Ir(${N}) ${busy.toLocaleString("en")}, per request ${((busy - idle) / N).toFixed(0)}`);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const b = med(perRequest.base);
  const c = med(perRequest.current);
  console.log(`[proxy-ir] instructions per request: base ${b.toFixed(0)}, current ${c.toFixed(0)}; current/base ${(c / b).toFixed(3)}×; load average ${os.loadavg().map((l) => l.toFixed(1)).join(", ")}`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    if (!process.env.BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
    else console.log(`[proxy-ir] callgrind files kept in ${tmp}`);
  });
