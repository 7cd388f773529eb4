/**
 * Usage signals (issue 22): `npx tsx --expose-gc bench/signals.ts` (or `npm run bench signals`, which has no
 * --expose-gc and then reports heap figures without a forced GC, less exact).
 *
 * 1. Memory: 100,000 credentials × 50 endpoints each (5,000,000 distinct pairs, one request per pair,
 *    networks and minutes included) offered to the proxy's SignalTable within one report window, with the
 *    default caps (200,000 credentials, 1,000,000 pairs) and with caps large enough to hold everything;
 *    heap growth measured after a GC. The window is emptied at every report (PROXY_USAGE_FLUSH_MS), so the caps,
 *    not the history, bound it.
 * 2. CPU on the hot path: UsageAggregator.recordRequest alone vs recordRequest + recordSignal for the same
 *    request stream (10,000 hot keys × 20 endpoints, already seen: the steady state), alternating rounds; ns per
 *    request and the ratio. This is the aggregator's share only, not the whole proxy's request (see
 *    docs/BENCHMARKS.md for what the share is against a request's total cost).
 */
import { randomUUID } from "node:crypto";
import pino from "pino";
import { Metrics } from "../proxy/metrics";
import { SignalTable } from "../proxy/signals";
import { UsageAggregator } from "../proxy/usage";
import { runBench } from "./support";

const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};
const mb = (b: number) => (b / 2 ** 20).toFixed(1);

function fill(limits: { maxCredentials: number; maxPairs: number; maxNetworks: number }, creds: string[], routes: string[]) {
  const before = heap();
  const t = new SignalTable(limits);
  const t0 = Date.UTC(2026, 11, 6, 3, 0, 0);
  const started = performance.now();
  for (let e = 0; e < routes.length; e++) {
    for (let c = 0; c < creds.length; c++) t.record(creds[c], null, routes[e], c % 7 === 0 ? "203.0.113.0/24" : "198.51.100.0/24", t0 + e * 1000);
  }
  const ms = performance.now() - started;
  const grown = heap() - before;
  return { t, grown, ms };
}

function cpu(rounds: number) {
  const log = pino({ level: "silent" });
  const mk = (signals: boolean) =>
    new UsageAggregator({ proxyName: "b", environment: "production", flushMs: 60_000, maxEntries: 1_000_000, maxShadow: 10, signals: signals ? { maxCredentials: 200_000, maxPairs: 1_000_000, maxNetworks: 4 } : null }, new Metrics(), log);
  const creds = Array.from({ length: 10_000 }, () => randomUUID());
  const grants = creds.map(() => randomUUID());
  const routes = Array.from({ length: 20 }, () => randomUUID());
  const N = 2_000_000;
  const run = (u: UsageAggregator, signals: boolean) => {
    const now = Date.now();
    const started = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      const c = i % creds.length;
      u.recordRequest(grants[c], creds[c], routes[i % routes.length], now + (i >> 12));
      if (signals) u.recordSignal(creds[c], grants[c], routes[i % routes.length], "198.51.100.0/24", now + (i >> 12));
    }
    const d = process.cpuUsage(started);
    return ((d.user + d.system) * 1000) / N; // ns per request
  };
  const off = mk(false);
  const on = mk(true);
  run(off, false);
  run(on, true); // warm-up: every key and pair seen once, as in the steady state
  const ratios: number[] = [];
  const offNs: number[] = [];
  const onNs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0;
    const a = first ? run(off, false) : run(on, true);
    const b = first ? run(on, true) : run(off, false);
    const [o, s] = first ? [a, b] : [b, a];
    offNs.push(o);
    onNs.push(s);
    ratios.push(s / o);
  }
  const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)];
  return { off: med(offNs), on: med(onNs), ratio: med(ratios), ratios };
}

runBench(async () => {
  console.log(`[signals] node ${process.version}, forced GC: ${gc ? "yes" : "no (run with --expose-gc for exact heap figures)"}; load average ${(await import("node:os")).loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const creds = Array.from({ length: 100_000 }, () => randomUUID());
  const routes = Array.from({ length: 50 }, () => randomUUID());
  for (const [label, limits] of [
    ["default caps (200,000 credentials, 1,000,000 pairs)", { maxCredentials: 200_000, maxPairs: 1_000_000, maxNetworks: 4 }],
    ["uncapped (everything held)", { maxCredentials: 1_000_000, maxPairs: 10_000_000, maxNetworks: 4 }],
  ] as const) {
    const { t, grown, ms } = fill(limits, creds, routes);
    console.log(`[signals] 100,000 keys × 50 endpoints, ${label}: heap +${mb(grown)} MB, ${t.size} credentials held, ${t.dropped} pairs dropped, ${(ms * 1e6 / 5e6).toFixed(0)} ns per record`);
    const took = performance.now();
    const entries = t.take();
    console.log(`[signals]   take() → ${entries.length} report entries in ${(performance.now() - took).toFixed(0)} ms; heap in use with the entries still referenced: ${mb(heap())} MB`);
  }
  const r = cpu(Number(process.env.BENCH_ROUNDS ?? 7));
  console.log(`[signals] aggregator CPU per request (10,000 hot keys × 20 endpoints, steady state): off ${r.off.toFixed(0)} ns, on ${r.on.toFixed(0)} ns, median ratio on/off ${r.ratio.toFixed(3)} (rounds ${r.ratios.map((x) => x.toFixed(3)).join(" ")})`);
});
