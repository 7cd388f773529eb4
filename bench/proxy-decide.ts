/**
 * The proxy's access decision alone (`npx tsx bench/proxy-decide.ts`, or `npm run bench -- proxy-decide`): the
 * state of bench/proxy.ts (200,000 credentials, 1,000,000 grants, 2,000 templates) built in this process, and
 * decide() over the same 1,000 rotating (key, path) pairs, in nanoseconds per call, step by step.
 *
 * Each step is timed twice: back to back (the state's hot parts stay in the CPU caches), and with 64 KB of other
 * memory written between calls, which is roughly what serving one HTTP request through Node does to the caches
 * and what makes the same lookups several times slower inside the running proxy. Not part of `npm run bench`'s
 * default set: a tool for working on the request path, not a target of an issue.
 */
import { decide, presentedKey, sha256Digest } from "../proxy/decide";
import { normalizeTarget, segmentsOf } from "../proxy/normalize";
import type { SnapshotBody } from "../proxy/schemas";
import { EnforcementState } from "../proxy/state";
import { benchRequests, stateRecords } from "./proxy-state";

const POLLUTE_KB = 64;

function buildState(): EnforcementState {
  const s: Pick<SnapshotBody, "apis" | "routes" | "credentials" | "grants"> = { apis: [], routes: [], credentials: [], grants: [] };
  for (const r of stateRecords("http://127.0.0.1:9")) {
    if (r.kind === "api") s.apis.push(r.value);
    else if (r.kind === "route") s.routes.push(r.value);
    else if (r.kind === "credential") s.credentials.push(r.value);
    else s.grants.push(r.value);
  }
  return EnforcementState.fromSnapshot(s);
}

const t0 = performance.now();
const state = buildState();
console.log(`[proxy-decide] state built in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(state.counts())}`);

const requests = benchRequests().map((r) => ({ url: r.path, headers: { host: "127.0.0.1:8080", authorization: `Bearer ${r.key}` } }));
type Req = (typeof requests)[number];
const pathOf = (r: Req) => (normalizeTarget(r.url) as { path: string }).path;

// Cumulative steps: each adds one stage of decide() to the one before.
const steps: [string, (r: Req) => unknown][] = [
  ["canonical path + segments", (r) => segmentsOf(pathOf(r))],
  ["+ API by prefix", (r) => { const p = pathOf(r); return state.apiFor(p, segmentsOf(p)); }],
  ["+ route match", (r) => { const p = pathOf(r); const s = segmentsOf(p); const o = state.apiFor(p, s)!; return o.api.matcher.match("GET", s, o.depth); }],
  ["key from header + SHA-256", (r) => sha256Digest(presentedKey(r.headers)!)],
  ["+ credential lookup", (r) => state.credentialByDigest(sha256Digest(presentedKey(r.headers)!))],
  ["decide() (allow, with grant probe and id)", (r) => decide(state, "GET", r.url, r.headers, Date.now()).kind === "allow"],
];

const junk = new Uint32Array((64 << 20) >> 2);
let junkAt = 0;
function measure(fn: (r: Req) => unknown, pollute: boolean): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const n = 200_000;
    let spent = 0;
    let truthy = 0;
    for (let i = 0; i < n; i++) {
      if (pollute) for (let k = 0; k < (POLLUTE_KB * 1024) / 64; k++, junkAt = (junkAt + 16) % junk.length) junk[junkAt] = i;
      const t = performance.now();
      if (fn(requests[i % requests.length])) truthy++;
      spent += performance.now() - t;
    }
    if (truthy !== n) throw new Error(`a step returned nothing for ${n - truthy} of ${n} requests`);
    best = Math.min(best, (spent * 1e6) / n);
  }
  return best;
}

console.log(`[proxy-decide] ns per call, best of 3 × 200,000 (includes ~30-40 ns of timer reads): back to back | ${POLLUTE_KB} KB written between calls`);
for (const [name, fn] of steps) {
  console.log(`[proxy-decide] ${name.padEnd(44)} ${measure(fn, false).toFixed(0).padStart(6)} | ${measure(fn, true).toFixed(0).padStart(6)}`);
}
