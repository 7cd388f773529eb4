/**
 * The access decision of two versions of the proxy side by side, in one process
 * (`npx tsx bench/proxy-decide-ab.ts --base <dir>`), where <dir> holds another
 * version's tree, e.g. `git archive <commit> | tar -x -C <dir>` with a
 * node_modules link. Each version builds the state of bench/proxy.ts (its own
 * bench/proxy-state.ts: 200,000 credentials, 1,000,000 grants, 2,000 templates),
 * then rounds alternate base / current over the same 1,000 rotating (key, path)
 * pairs. A round is 200,000 decide() calls timed by the process's CPU time
 * (user + system) as well as by the wall clock: on a machine shared with other
 * work the CPU time is the steadier of the two, since time spent descheduled is
 * not counted. Reports the median ns per call of each and the current/base ratio.
 * A tool for comparing a change on the request path, not a target of an issue.
 */
import path from "node:path";

const baseArg = process.argv.indexOf("--base");
if (baseArg < 0 || !process.argv[baseArg + 1]) throw new Error("usage: npx tsx bench/proxy-decide-ab.ts --base <dir with the other version's tree> [--rounds N]");
const baseDir = path.resolve(process.argv[baseArg + 1]);
const roundsArg = process.argv.indexOf("--rounds");
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 7;
const CALLS = 200_000;
const here = path.resolve(import.meta.dirname, "..");

interface Version {
  name: string;
  decide: (state: unknown, method: string, target: string, headers: Record<string, string>, now: number) => { kind: string };
  state: unknown;
  requests: { url: string; headers: Record<string, string> }[];
}

async function load(name: string, root: string): Promise<Version> {
  const { decide } = await import(path.join(root, "proxy/decide.ts"));
  const { EnforcementState } = await import(path.join(root, "proxy/state.ts"));
  const { benchRequests, stateRecords } = await import(path.join(root, "bench/proxy-state.ts"));
  const s = { apis: [] as unknown[], routes: [] as unknown[], credentials: [] as unknown[], grants: [] as unknown[] };
  const t0 = performance.now();
  for (const r of stateRecords("http://127.0.0.1:9") as Iterable<{ kind: "api" | "route" | "credential" | "grant"; value: unknown }>) s[`${r.kind}s`].push(r.value);
  const state = EnforcementState.fromSnapshot(s);
  console.log(`[decide-ab] ${name}: state built in ${((performance.now() - t0) / 1000).toFixed(1)} s from ${root}`);
  const requests = (benchRequests() as { path: string; key: string }[]).map((r) => ({ url: r.path, headers: { host: "127.0.0.1:8080", authorization: `Bearer ${r.key}` } }));
  return { name, decide, state, requests };
}

function round(v: Version): { cpuNs: number; wallNs: number } {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  let allowed = 0;
  for (let i = 0; i < CALLS; i++) {
    const r = v.requests[i % v.requests.length];
    if (v.decide(v.state, "GET", r.url, r.headers, Date.now()).kind === "allow") allowed++;
  }
  const wall = performance.now() - w0;
  const c = process.cpuUsage(c0);
  if (allowed !== CALLS) throw new Error(`${v.name}: ${CALLS - allowed} of ${CALLS} requests were not allowed`);
  return { cpuNs: ((c.user + c.system) * 1000) / CALLS, wallNs: (wall * 1e6) / CALLS };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const base = await load("base", baseDir);
const current = await load("current", here);
for (const v of [base, current]) round(v); // warm-up: JIT both before timing either
const runs = { base: [] as { cpuNs: number; wallNs: number }[], current: [] as { cpuNs: number; wallNs: number }[] };
for (let i = 0; i < ROUNDS; i++) {
  // Alternate which goes first, so a drift in the machine's load falls on both.
  const order = i % 2 === 0 ? [base, current] : [current, base];
  for (const v of order) runs[v.name as "base" | "current"].push(round(v));
}
const row = (k: "cpuNs" | "wallNs") => {
  const b = median(runs.base.map((r) => r[k]));
  const c = median(runs.current.map((r) => r[k]));
  return `${b.toFixed(0)} ns | ${c.toFixed(0)} ns | ${(c / b).toFixed(3)}×`;
};
console.log(`[decide-ab] decide() per call, median of ${ROUNDS} alternating rounds × ${CALLS.toLocaleString("en")} calls: base | current | current/base`);
console.log(`[decide-ab] by CPU time:   ${row("cpuNs")}`);
console.log(`[decide-ab] by wall clock: ${row("wallNs")}`);
console.log(`[decide-ab] CPU ns per round, base: ${runs.base.map((r) => r.cpuNs.toFixed(0)).join(", ")}; current: ${runs.current.map((r) => r.cpuNs.toFixed(0)).join(", ")}`);
