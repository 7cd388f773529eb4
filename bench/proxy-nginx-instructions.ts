/**
 * Instructions per proxied request of the nginx data plane and of plain nginx, counted by valgrind's callgrind
 * (`npx tsx bench/proxy-nginx-instructions.ts [plain|plane] [--tree DIR]`). Instruction counts do not depend on how
 * busy the machine is, so they show where the plane's time goes, and compare two versions, on a shared machine where
 * wall-clock ratios swing by 2x between rounds (docs/BENCHMARKS.md, "nginx data plane").
 *
 * One nginx process (`master_process off`: the worker is the process callgrind counts), the config of
 * proxy-nginx/generate.ts (plane) or bench/proxy-nginx.ts's plain reverse proxy with upstream keep-alive (plain),
 * bench/proxy-upstream.ts behind it; the plane gets bench/proxy-state.ts's state, small by default (BENCH_CREDENTIALS
 * 2,000, BENCH_GRANTS 10,000) and pushed straight into the dicts through the control socket. wrk -t1 -c32 sends the
 * bench's 1,000 allowed requests for BENCH_CG_WARM_SECONDS (15: the JIT settles, every decision is cached), the
 * counters are zeroed (callgrind_control -z), wrk runs BENCH_CG_SECONDS (10) more, the counters are dumped: Ir of that
 * dump / requests wrk completed. --tree DIR measures another checkout (its generate.ts, lua/ and proxy-state.ts), e.g.
 * `git archive <commit>` unpacked with node_modules linked. BENCH_KEEP=1 keeps the callgrind file for
 * `callgrind_annotate --inclusive=yes --tree=calling`.
 *
 * Under valgrind the plane's usage timer (every 0.2 s) moves each counter into the shared dict about once per
 * request, since requests are ~50x slower; at full speed that is about once per 4 requests, so the plane's figure
 * here is ~1,500 instructions higher than what it costs at speed (the timer's share is printed separately).
 */
import { fork, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Agent, request } from "undici";
import { plainNginxConf } from "./support";

process.env.BENCH_CREDENTIALS ??= "2000";
process.env.BENCH_GRANTS ??= "10000";
const args = process.argv.slice(2);
const MODE = args.find((a) => a === "plain" || a === "plane") ?? "plane";
const TREE = path.resolve(args.includes("--tree") ? args[args.indexOf("--tree") + 1] : path.join(import.meta.dirname, ".."));
const WARM = Number(process.env.BENCH_CG_WARM_SECONDS ?? 15);
const SECS = Number(process.env.BENCH_CG_SECONDS ?? 10);

const { nginxConfig, controlSocket } = await import(path.join(TREE, "proxy-nginx/generate.ts"));
const { freePort } = await import(path.join(TREE, "test/support/db.ts"));
const st = await import(path.join(TREE, "bench/proxy-state.ts"));

const pids: number[] = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-nginx-cg-"));
process.on("exit", () => {
  for (const p of pids.reverse()) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (process.env.BENCH_KEEP !== "1") rmSync(tmp, { recursive: true, force: true });
});
for (const d of ["logs", "tmp"]) mkdirSync(path.join(tmp, d));
const root = process.getuid?.() === 0;
const [upPort, port] = [await freePort(), await freePort()];
const up = fork(path.join(TREE, "bench/proxy-upstream.ts"), [String(upPort)], { execArgv: ["--import", "tsx"], stdio: "ignore" });
pids.push(up.pid!);
await new Promise((r) => up.once("message", r));

const conf =
  "master_process off;\n" +
  (MODE === "plain"
    ? plainNginxConf(tmp, port, upPort, 1, root)
    : nginxConfig({ prefix: tmp, listen: { host: "127.0.0.1", port }, workers: 1, stateDictMb: 64, userRoot: root }));
writeFileSync(path.join(tmp, "nginx.conf"), conf);
const nargs = ["-p", tmp, "-c", path.join(tmp, "nginx.conf"), "-e", path.join(tmp, "logs/error.log")];
// --smc-check=all: LuaJIT patches the machine code it generated.
const nginx = spawn("valgrind", ["--tool=callgrind", "--smc-check=all", `--callgrind-out-file=${path.join(tmp, "cg.out")}`, "/usr/sbin/nginx", ...nargs], { stdio: "ignore" });
pids.push(nginx.pid!);
for (let i = 0; ; i++) {
  if (spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0) break;
  if (i > 1200) throw new Error("nginx did not start under valgrind");
  await new Promise((r) => setTimeout(r, 50));
}

if (MODE === "plane") {
  const dispatcher = new Agent({ connect: { socketPath: controlSocket(tmp) }, headersTimeout: 600_000, bodyTimeout: 600_000 });
  const ctl = async (p: string, body: unknown) => {
    const r = await request(`http://control${p}`, { method: "POST", dispatcher, body: JSON.stringify(body) });
    const t = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${p}: ${r.statusCode} ${t}`);
    return JSON.parse(t);
  };
  const apis: unknown[] = [];
  const routes: unknown[] = [];
  let creds: unknown[] = [];
  let grants: unknown[] = [];
  const { generation } = await ctl("/load/begin", {});
  for (const r of st.stateRecords(`http://127.0.0.1:${upPort}`)) {
    if (r.kind === "api") apis.push({ id: r.value.id, prefix: r.value.prefix, scheme: "http", addr: "127.0.0.1", port: upPort, hostHeader: `127.0.0.1:${upPort}`, base: "", keyLocation: null });
    else if (r.kind === "route") routes.push(r.value);
    else if (r.kind === "credential") creds.push(r.value);
    else grants.push(r.value);
    if (creds.length + grants.length >= 5000) {
      await ctl(`/load/chunk?generation=${generation}`, { credentials: creds, grants });
      creds = [];
      grants = [];
    }
  }
  await ctl(`/load/chunk?generation=${generation}`, { credentials: creds, grants });
  await ctl(`/load/commit?generation=${generation}&revision=1`, { topology: JSON.stringify({ apis, routes }) });
}

const reqs: { path: string; key: string }[] = st.benchRequests();
const script = path.join(tmp, "requests.lua");
writeFileSync(script, `local reqs = {\n${reqs.map((r) => `{"${r.path}","Bearer ${r.key}"}`).join(",\n")}\n}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  local r = reqs[(i % #reqs) + 1]\n  return wrk.format("GET", r[1], { ["Authorization"] = r[2] })\nend\n`);
const url = `http://127.0.0.1:${port}`;
const wrk = (secs: number) => {
  const r = spawnSync("/usr/bin/wrk", ["-t1", "-c32", `-d${secs}s`, "-s", script, url], { encoding: "utf8" });
  if (/Non-2xx/.test(r.stdout)) throw new Error(`non-2xx responses: ${r.stdout}`);
  return Number(/(\d+) requests in/.exec(r.stdout)![1]);
};
const one = () => request(url + reqs[0].path, { headers: { authorization: `Bearer ${reqs[0].key}` } }).then((r) => r.body.dump());

wrk(WARM);
spawnSync("callgrind_control", ["-z", String(nginx.pid)]);
await one(); // callgrind takes the command when nginx next runs
await new Promise((r) => setTimeout(r, 500));
const n = wrk(SECS);
spawnSync("callgrind_control", ["-d", String(nginx.pid)]);
await one();
await new Promise((r) => setTimeout(r, 3000));
const file = path.join(tmp, readdirSync(tmp).filter((f) => f.startsWith("cg.out.")).sort().at(-1)!);
const ir = Number(/(?:summary|totals): (\d+)/.exec(readFileSync(file, "utf8"))![1]);
// The share of the parts, inclusive, from callgrind_annotate's per-function totals.
const annotate = spawnSync("callgrind_annotate", ["--inclusive=yes", "--threshold=100", "--auto=no", file], { encoding: "utf8", maxBuffer: 64 << 20 }).stdout;
const part = (fn: string) => Number((new RegExp(`^\\s*([\\d,]+) \\([^)]*\\)\\s+\\?\\?\\?:${fn} `, "m").exec(annotate)?.[1] ?? "0").replace(/,/g, ""));
const per = (x: number) => Math.round(x / (n + 2));
console.log(
  JSON.stringify({
    mode: MODE,
    tree: TREE,
    requests: n,
    instructionsPerRequest: per(ir),
    parts: {
      setByLua: per(part("ngx_http_lua_set_by_chunk")),
      accessByLua: per(part("ngx_http_lua_access_handler")),
      balancerByLua: per(part("ngx_http_lua_balancer_handler_inline")),
      upstreamInit: per(part("ngx_http_upstream_init")),
      usageTimer: per(part("ngx_event_expire_timers")),
    },
    callgrindFile: process.env.BENCH_KEEP === "1" ? file : undefined,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(1))),
  }),
);
process.exit(0);
