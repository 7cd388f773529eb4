/**
 * Two versions of the proxy side by side over HTTP (`npx tsx bench/proxy-ab.ts --base <dir>`), where <dir> holds
 * the other version's tree (e.g. `git archive <commit> | tar -x -C <dir>` plus a node_modules link). Both proxies
 * run at once against one upstream, each loaded with its own tree's bench state (bench/proxy-state.ts: 200,000
 * credentials, 1,000,000 grants, 2,000 templates, pushed as NDJSON); then wrk rounds alternate base / current
 * (closed loop, 32 connections, BENCH_WRK_SECONDS each, BENCH_ROUNDS pairs, the order flipped every pair) and each
 * pair gives one current/base throughput ratio. On a machine shared with other work the absolute figures move by
 * tens of percent from one run to the next; adjacent runs of the two versions feel the same load, so the median of
 * the paired ratios is what says whether a change costs throughput. bench/proxy.ts's Tollgate/nginx ratio moves by
 * the same factor. A tool for a change on the request path, not a target of an issue.
 * One tree against itself with a setting changed: `--base .` with BENCH_AB_BASE_ENV / BENCH_AB_CURRENT_ENV
 * ("NAME=value,NAME=value", added to that side's environment), e.g. BENCH_AB_BASE_ENV=PROXY_SIGNALS=false
 * for the cost of usage signals (issue 22).
 */
import { fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { request } from "undici";
import { freePort } from "../test/support/db";
import { benchProxyEnv, untilAdminAnswers } from "./support";

const baseArg = process.argv.indexOf("--base");
if (baseArg < 0 || !process.argv[baseArg + 1]) throw new Error("usage: npx tsx bench/proxy-ab.ts --base <dir with the other version's tree>");
const BASE = path.resolve(process.argv[baseArg + 1]);
const CURRENT = path.resolve(import.meta.dirname, "..");
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ADMIN_TOKEN = "bench-admin-token-0123456789";
const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-ab-"));
const children: ChildProcess[] = [];

const TICK = 100;
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICK;
}

/** "A=1,B=2" → { A: "1", B: "2" } */
const envList = (v: string | undefined): Record<string, string> =>
  Object.fromEntries((v ?? "").split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));

async function startProxy(root: string, upstreamUrl: string, extraEnv: Record<string, string> = {}) {
  const [dataPort, adminPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "proxy/main.ts")], {
    cwd: root,
    env: { ...benchProxyEnv({ dataPort, adminPort, adminToken: ADMIN_TOKEN, stateFile: path.join(tmp, `${path.basename(root)}-${dataPort}.ndjson`) }), ...extraEnv },
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
  return { url: `http://127.0.0.1:${dataPort}`, pid: child.pid! };
}

function wrk(url: string, script: string): number {
  const r = spawnSync("/usr/bin/wrk", ["-t1", "-c32", `-d${WRK_SECONDS}s`, "-s", script, url], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} non-2xx responses against ${url}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)![1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const upPort = await freePort();
  const up = fork(path.join(CURRENT, "bench/proxy-upstream.ts"), [String(upPort)], { execArgv: ["--import", "tsx"], stdio: "ignore" });
  children.push(up);
  await new Promise((r) => up.once("message", r));
  const upstreamUrl = `http://127.0.0.1:${upPort}`;
  const t0 = performance.now();
  const [baseEnv, currentEnv] = [envList(process.env.BENCH_AB_BASE_ENV), envList(process.env.BENCH_AB_CURRENT_ENV)];
  if (Object.keys(baseEnv).length || Object.keys(currentEnv).length) console.log(`[proxy-ab] base env ${JSON.stringify(baseEnv)}, current env ${JSON.stringify(currentEnv)}`);
  const [base, current] = await Promise.all([startProxy(BASE, upstreamUrl, baseEnv), startProxy(CURRENT, upstreamUrl, currentEnv)]);
  console.log(`[proxy-ab] both proxies loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const { benchRequests } = await import(path.join(CURRENT, "bench/proxy-state.ts"));
  const reqs = benchRequests() as { path: string; key: string }[];
  const lua = path.join(tmp, "requests.lua");
  writeFileSync(lua, `local reqs = {\n${reqs.map((r) => `{"${r.path}","Bearer ${r.key}"}`).join(",\n")}\n}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  local r = reqs[(i % #reqs) + 1]\n  return wrk.format("GET", r[1], { ["Authorization"] = r[2] })\nend\n`);
  for (const p of [base, current]) spawnSync("/usr/bin/wrk", ["-t1", "-c8", "-d2s", "-s", lua, p.url]);

  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const rps = { base: [] as number[], current: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? (["base", "current"] as const) : (["current", "base"] as const);
    const got: Record<string, { rps: number; cpuUsPerReq: number }> = {};
    for (const name of order) {
      const p = name === "base" ? base : current;
      const c0 = processCpuSeconds(p.pid);
      const r = wrk(p.url, lua);
      got[name] = { rps: r, cpuUsPerReq: ((processCpuSeconds(p.pid) - c0) * 1e6) / (r * WRK_SECONDS) };
      rps[name].push(r);
    }
    ratios.push(got.current.rps / got.base.rps);
    cpuRatios.push(got.current.cpuUsPerReq / got.base.cpuUsPerReq);
    console.log(
      `[proxy-ab] round ${i + 1}: base ${got.base.rps.toFixed(0)} req/s (${got.base.cpuUsPerReq.toFixed(0)} µs CPU/req), current ${got.current.rps.toFixed(0)} req/s (${got.current.cpuUsPerReq.toFixed(0)} µs CPU/req); current/base ${ratios.at(-1)!.toFixed(2)}×`,
    );
  }
  const load = os.loadavg().map((l) => l.toFixed(1)).join(", ");
  console.log(`[proxy-ab] throughput current/base: median ${median(ratios).toFixed(2)}× (rounds ${ratios.map((r) => r.toFixed(2)).join(", ")}); proxy CPU per request current/base: median ${median(cpuRatios).toFixed(2)}×`);
  console.log(`[proxy-ab] req/s medians: base ${median(rps.base).toFixed(0)}, current ${median(rps.current).toFixed(0)}; load average at the end ${load}`);
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
