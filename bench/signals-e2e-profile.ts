/**
 * Where a usage report's ingest time goes, statement by statement: `npx tsx bench/signals-e2e-profile.ts <database url>`
 * on a database kept by `BENCH_KEEP=1 npx tsx bench/signals-e2e.ts`. Builds reports like the proxy's for K keys
 * (BENCH_KEYS, default 20,000; cut as the proxy cuts them: 5,000 grants/credentials, 2,000 signals per report) for
 * the current minute, ingests them with the real ingestUsageReport (ROUNDS times: the first round may carry first
 * sightings, later ones are the steady state), and prints Prisma's per-statement durations, slowest first.
 */
import { randomUUID } from "node:crypto";
import { PrismaClient } from "../lib/generated/prisma/client";
import { pgConfigFromUrl } from "../lib/config/env";
import { ResilientPrismaPg } from "../lib/db/adapter";
import { systemActor } from "../lib/auth/actor";
import { ingestUsageReport } from "../lib/usage/ingest";
import { benchRequests } from "./proxy-state";

const url = process.argv[2];
const K = Number(process.env.BENCH_KEYS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const client = new PrismaClient({ adapter: new ResilientPrismaPg({ ...pgConfigFromUrl(url), max: 4 }), log: [{ emit: "event", level: "query" }] });
const stats = new Map<string, { n: number; ms: number }>();
let recording = false;
client.$on("query", (e) => {
  if (!recording) return;
  const key = e.query.replace(/\s+/g, " ").slice(0, 140);
  const s = stats.get(key) ?? { n: 0, ms: 0 };
  s.n++;
  s.ms += e.duration;
  stats.set(key, s);
});

const reqs = benchRequests(K);
const chunk = <T>(xs: T[], n: number) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

for (let round = 1; round <= ROUNDS; round++) {
  const now = new Date();
  const at = now.toISOString();
  const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000).toISOString();
  const day = at.slice(0, 10);
  const g = chunk(reqs.map((r) => ({ grantId: r.grant, day, count: 3, lastUsedAt: at })), 5000);
  const c = chunk(reqs.map((r) => ({ credentialId: r.credential, lastUsedAt: at })), 5000);
  const routes = [...new Set(reqs.map((r) => r.route))].map((routeId) => ({ routeId, day, count: 10, lastUsedAt: at }));
  const rt = chunk(routes, 5000);
  const sg = chunk(reqs.map((r) => ({ credentialId: r.credential, grantId: r.grant, endpoints: [r.route], networks: ["127.0.0.0/24"], minutes: [{ minute, count: 3 }] })), 2000);
  const n = Math.max(g.length, sg.length);
  stats.clear();
  recording = true;
  const t0 = performance.now();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await ingestUsageReport(systemActor("bench"), { reportId: randomUUID(), proxy: "bench-e2e", environment: "production", grants: g[i] ?? [], credentials: c[i] ?? [], shadow: [], routes: rt[i] ?? [], signals: sg[i] ?? [] }, client);
    times.push(performance.now() - t);
  }
  recording = false;
  console.log(`[profile] round ${round}: ${K} keys in ${n} reports, ${(performance.now() - t0).toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(" ")})`);
  for (const [q, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) console.log(`  ${String(s.ms).padStart(6)} ms  ×${s.n}  ${q}`);
}
await client.$disconnect();
