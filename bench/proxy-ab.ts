/**
 * Two versions of the proxy side by side over HTTP (`npx tsx bench/proxy-ab.ts --base <dir>`), where <dir> holds
 * the other version's tree (e.g. `git archive <commit> | tar -x -C <dir>` plus a node_modules link). A tool for a
 * change on the request path, not a target of an issue.
 *
 * Fairness (an earlier version measured 0.96x in an A/A run: the proxy started second lost):
 * - two instances of each version, started in the order base, current, current, base (ABBA), so neither version
 *   is always the one started (and loaded, and heap-laid-out) second;
 * - every instance runs pinned to the same core (BENCH_PROXY_CPU, default 0) and wrk and the upstream to the other
 *   (BENCH_LOAD_CPU, default 1), so no version gets the emptier core; BENCH_PIN=0 turns pinning off;
 * - in every round each of the four instances gets one wrk run, in an order that rotates and reverses from round
 *   to round, so no instance is always measured first or right after a particular other one;
 * - each round gives current/base (both instances' req/s summed) and two A/A controls (the second-started
 *   instance of each version over its first-started one); medians over the rounds are reported. An A/A median
 *   away from 1.00x says how far the method itself is biased on this machine at this time.
 * Each instance holds its own tree's bench state (bench/proxy-state.ts, pushed as NDJSON; BENCH_CREDENTIALS and
 * BENCH_GRANTS make it smaller).
 * One tree against itself with a setting changed: `--base .` with BENCH_AB_BASE_ENV / BENCH_AB_CURRENT_ENV
 * ("NAME=value,NAME=value", added to that side's environment), e.g. BENCH_AB_BASE_ENV=PROXY_SIGNALS=false
 * for the cost of usage signals (issue 22).
 */
import { fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { request } from "undici";
import { freePort } from "../test/support/db";
import { benchProxyEnv, processCpuSeconds, untilAdminAnswers } from "./support";

const baseArg = process.argv.indexOf("--base");
if (baseArg < 0 || !process.argv[baseArg + 1]) throw new Error("usage: npx tsx bench/proxy-ab.ts --base <dir with the other version's tree>");
const BASE = path.resolve(process.argv[baseArg + 1]);
const CURRENT = path.resolve(import.meta.dirname, "..");
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ADMIN_TOKEN = "bench-admin-token-0123456789";
const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-ab-"));
const children: ChildProcess[] = [];

const PIN = process.env.BENCH_PIN !== "0";
const PROXY_CPU = process.env.BENCH_PROXY_CPU ?? "0";
const LOAD_CPU = process.env.BENCH_LOAD_CPU ?? "1";
/** The command and its arguments, run through taskset on the given core when pinning is on. */
const pinned = (cpu: string, cmd: string, args: string[]): [string, string[]] => (PIN ? ["taskset", ["-c", cpu, cmd, ...args]] : [cmd, args]);


/** "A=1,B=2" → { A: "1", B: "2" } */
const envList = (v: string | undefined): Record<string, string> =>
  Object.fromEntries((v ?? "").split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
const [BASE_ENV, CURRENT_ENV] = [envList(process.env.BENCH_AB_BASE_ENV), envList(process.env.BENCH_AB_CURRENT_ENV)];

async function startProxy(root: string, upstreamUrl: string, label: string, extraEnv: Record<string, string> = {}) {
  const [dataPort, adminPort] = [await freePort(), await freePort()];
  const [cmd, args] = pinned(PROXY_CPU, process.execPath, ["--import", "tsx", path.join(root, "proxy/main.ts")]);
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...benchProxyEnv({ dataPort, adminPort, adminToken: ADMIN_TOKEN, stateFile: path.join(tmp, `${label}.ndjson`) }), ...extraEnv },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  await untilAdminAnswers(adminUrl, ADMIN_TOKEN, 1200, `proxy of ${root}`);
  const { stateRecords } = await import(path.join(root, "bench/proxy-state.ts"));
  async function* body(): AsyncGenerator<string> {
    let buf = JSON.stringify({ idempotencyKey: "ab-snapshot" }) + "\n";
    for (const r of stateRecords(upstreamUrl) as Iterable<{ kind: string; value: unknown }>) {
      buf += `{"kind":"${r.kind}","value":${JSON.stringify(r.value)}}\n`;
      if (buf.length > 1 << 20) {
        yield buf;
        buf = "";
      }
    }
    yield buf;
  }
  const push = await request(`${adminUrl}/admin/v1/snapshot`, {
    method: "PUT",
    headers: { ...auth, "content-type": "application/x-ndjson" },
    body: Readable.from(body()),
    headersTimeout: 900_000,
    bodyTimeout: 900_000,
  });
  const text = await push.body.text();
  if (push.statusCode !== 200) throw new Error(`snapshot push to ${root} failed: ${push.statusCode} ${text.slice(0, 300)}`);
  // With taskset the child is taskset, which exec()s node: the same pid.
  return { label, url: `http://127.0.0.1:${dataPort}`, pid: child.pid! };
}

function wrk(url: string, script: string): number {
  const [cmd, args] = pinned(LOAD_CPU, "/usr/bin/wrk", ["-t1", "-c32", `-d${WRK_SECONDS}s`, "-s", script, url]);
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} non-2xx responses against ${url}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)![1]);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

type Instance = Awaited<ReturnType<typeof startProxy>>;

async function main() {
  const upPort = await freePort();
  const up = fork(path.join(CURRENT, "bench/proxy-upstream.ts"), [String(upPort)], { execArgv: ["--import", "tsx"], stdio: "ignore" });
  children.push(up);
  await new Promise((r) => up.once("message", r));
  if (PIN) spawnSync("taskset", ["-pc", LOAD_CPU, String(up.pid)]);
  const upstreamUrl = `http://127.0.0.1:${upPort}`;
  const t0 = performance.now();
  if (Object.keys(BASE_ENV).length || Object.keys(CURRENT_ENV).length) console.log(`[proxy-ab] base env ${JSON.stringify(BASE_ENV)}, current env ${JSON.stringify(CURRENT_ENV)}`);
  // ABBA start order, one after another, so which version starts (and loads) first is balanced.
  const base1 = await startProxy(BASE, upstreamUrl, "base-1", BASE_ENV);
  const current1 = await startProxy(CURRENT, upstreamUrl, "current-1", CURRENT_ENV);
  const current2 = await startProxy(CURRENT, upstreamUrl, "current-2", CURRENT_ENV);
  const base2 = await startProxy(BASE, upstreamUrl, "base-2", BASE_ENV);
  const instances: Instance[] = [base1, current1, current2, base2];
  console.log(`[proxy-ab] four proxies loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s (pinning ${PIN ? `proxies to CPU ${PROXY_CPU}, wrk and upstream to CPU ${LOAD_CPU}` : "off"})`);

  const { benchRequests } = await import(path.join(CURRENT, "bench/proxy-state.ts"));
  const reqs = benchRequests() as { path: string; key: string }[];
  const lua = path.join(tmp, "requests.lua");
  writeFileSync(lua, `local reqs = {\n${reqs.map((r) => `{"${r.path}","Bearer ${r.key}"}`).join(",\n")}\n}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  local r = reqs[(i % #reqs) + 1]\n  return wrk.format("GET", r[1], { ["Authorization"] = r[2] })\nend\n`);
  for (const p of instances) spawnSync("/usr/bin/wrk", ["-t1", "-c8", "-d2s", "-s", lua, p.url]);

  const ab: number[] = [];
  const abCpu: number[] = [];
  const aaBase: number[] = [];
  const aaCurrent: number[] = [];
  const rps: Record<string, number[]> = Object.fromEntries(instances.map((p) => [p.label, []]));
  for (let i = 0; i < ROUNDS; i++) {
    // Rotate by the round, and reverse every other round: each instance is first, last and in between.
    const rotated = instances.map((_, k) => instances[(k + i) % instances.length]);
    const order = i % 2 === 0 ? rotated : rotated.reverse();
    const got: Record<string, { rps: number; cpuUsPerReq: number }> = {};
    for (const p of order) {
      const c0 = processCpuSeconds(p.pid);
      const r = wrk(p.url, lua);
      got[p.label] = { rps: r, cpuUsPerReq: ((processCpuSeconds(p.pid) - c0) * 1e6) / (r * WRK_SECONDS) };
      rps[p.label].push(r);
    }
    const sum = (a: string, b: string) => got[a].rps + got[b].rps;
    const cpu = (a: string, b: string) => (got[a].cpuUsPerReq * got[a].rps + got[b].cpuUsPerReq * got[b].rps) / sum(a, b);
    ab.push(sum("current-1", "current-2") / sum("base-1", "base-2"));
    abCpu.push(cpu("current-1", "current-2") / cpu("base-1", "base-2"));
    aaBase.push(got["base-2"].rps / got["base-1"].rps);
    aaCurrent.push(got["current-2"].rps / got["current-1"].rps);
    console.log(
      `[proxy-ab] round ${i + 1} (order ${order.map((p) => p.label).join(", ")}): ` +
        instances.map((p) => `${p.label} ${got[p.label].rps.toFixed(0)} req/s ${got[p.label].cpuUsPerReq.toFixed(0)} µs CPU/req`).join("; ") +
        `; current/base ${ab.at(-1)!.toFixed(2)}×, A/A base ${aaBase.at(-1)!.toFixed(2)}×, A/A current ${aaCurrent.at(-1)!.toFixed(2)}×`,
    );
  }
  const load = os.loadavg().map((l) => l.toFixed(1)).join(", ");
  const list = (xs: number[]) => xs.map((r) => r.toFixed(2)).join(", ");
  console.log(`[proxy-ab] A/B throughput current/base: median ${median(ab).toFixed(2)}× (rounds ${list(ab)}); proxy CPU per request current/base: median ${median(abCpu).toFixed(2)}× (rounds ${list(abCpu)})`);
  console.log(`[proxy-ab] A/A control, second-started over first-started: base ${median(aaBase).toFixed(2)}× (rounds ${list(aaBase)}), current ${median(aaCurrent).toFixed(2)}× (rounds ${list(aaCurrent)})`);
  console.log(`[proxy-ab] req/s medians: ${instances.map((p) => `${p.label} ${median(rps[p.label]).toFixed(0)}`).join(", ")}; load average at the end ${load}`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill("SIGKILL");
    rmSync(tmp, { recursive: true, force: true });
  });
