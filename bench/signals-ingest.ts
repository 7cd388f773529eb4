/**
 * Usage ingest with signals (issue 22): `npx tsx bench/signals-ingest.ts`. A database of its own with 10,000
 * credentials (each with a grant) on an API of 50 endpoints, histories older than the learning day; then usage
 * reports like the proxy's, each of 2,000 credentials × 5 endpoints × 1 minute (+ a network), ingested one after
 * another with and without their signals (alternating), so the anomaly evaluation's share is a ratio. The anomaly
 * work depends on distinct (credential, window) entries, not on requests: a proxy at N req/s sends at most
 * min(N × flush, keys) entries per flush window.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import { createDb } from "../lib/db";
import { systemActor } from "../lib/auth/actor";
import { ingestUsageReport } from "../lib/usage/ingest";
import { createTestDatabase } from "../test/support/db";
import { runBench } from "./support";

const KEYS = 10_000;
const PER_REPORT = 2_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

runBench(async () => {
  console.log(`[signals-ingest] load average at the start ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  const tdb = await createTestDatabase();
  const client = createDb(tdb.url, 4);
  try {
    const env = await client.environment.create({ data: { name: "production", tier: "production" } });
    const api = await client.api.create({ data: { name: "orders", baseUrl: "http://127.0.0.1:1", environmentId: env.id } });
    const read = await client.scope.create({ data: { apiId: api.id, name: "orders:read", level: "read" } });
    const write = await client.scope.create({ data: { apiId: api.id, name: "orders:write", level: "write" } });
    const endpoints = await client.endpoint.createManyAndReturn({ data: Array.from({ length: 50 }, (_, i) => ({ apiId: api.id, method: i % 5 === 0 ? "POST" : "GET", pathTemplate: `/r${i}` })), select: { id: true, method: true } });
    await client.endpointScope.createMany({ data: endpoints.map((e) => ({ endpointId: e.id, scopeId: e.method === "POST" ? write.id : read.id })) });
    const principals = await client.principal.createManyAndReturn({ data: Array.from({ length: KEYS }, (_, i) => ({ kind: "service_account" as const, displayName: `svc-${i}` })), select: { id: true } });
    const old = new Date(Date.now() - 10 * 86_400_000);
    const creds = await client.credential.createManyAndReturn({ data: principals.map((p) => ({ principalId: p.id, prefix: "tg_b", hash: randomUUID().replace(/-/g, "").padEnd(64, "0"), createdAt: old, lastUsedAt: old })), select: { id: true } });
    const grants = await client.grant.createManyAndReturn({ data: principals.map((p) => ({ principalId: p.id, scopeId: read.id, environmentId: env.id, grantedAt: old, lastUsedAt: old })), select: { id: true } });
    await client.credentialEndpointSeen.createMany({ data: creds.map((c) => ({ credentialId: c.id, endpointId: endpoints[1].id, firstSeenAt: old, lastSeenAt: old })) });
    await client.credentialNetworkSeen.createMany({ data: creds.map((c) => ({ credentialId: c.id, network: "10.0.0.0/24", firstSeenAt: old, lastSeenAt: old })) });
    console.log(`[signals-ingest] ${KEYS} keys, 50 endpoints ready`);

    const actor = systemActor("bench");
    let minute = Math.floor(Date.now() / 60_000) * 60_000 - ROUNDS * 2 * 60_000;
    const report = (r: number, withSignals: boolean) => {
      const at = new Date(minute).toISOString();
      minute += 60_000;
      // With signals, the same keys every time after the first (the steady state: pairs and networks known);
      // the first report is all first sightings (the worst case: every pair inserted and checked).
      const slice = Array.from({ length: PER_REPORT }, (_, i) => ((withSignals ? 0 : (r + 1) * PER_REPORT) + i) % KEYS);
      return {
        reportId: randomUUID(),
        proxy: "bench",
        environment: "production",
        grants: slice.map((i) => ({ grantId: grants[i].id, day: at.slice(0, 10), count: 20, lastUsedAt: at })),
        credentials: slice.map((i) => ({ credentialId: creds[i].id, lastUsedAt: at })),
        shadow: [],
        routes: [],
        ...(withSignals
          ? { signals: slice.map((i) => ({ credentialId: creds[i].id, grantId: grants[i].id, endpoints: [0, 1, 2, 3, 4].map((k) => endpoints[(i + k) % 50].id), networks: ["10.0.0.0/24"], minutes: [{ minute: at, count: 20 }] })) }
          : {}),
      };
    };
    const times = { with: [] as number[], without: [] as number[] };
    let opened = 0;
    for (let r = 0; r < ROUNDS * 2; r++) {
      const withSignals = r % 2 === 0;
      const body = report(r, withSignals);
      const t0 = performance.now();
      const res = await ingestUsageReport(actor, body, client);
      (withSignals ? times.with : times.without).push(performance.now() - t0);
      opened += res.anomalies.length;
    }
    const med = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
    const first = times.with.shift()!;
    const w = med(times.with);
    const wo = med(times.without);
    console.log(`[signals-ingest] report of ${PER_REPORT} keys: without signals ${wo.toFixed(0)} ms; with signals (5 endpoints, 1 network, 1 minute each) first sightings ${first.toFixed(0)} ms, steady state ${w.toFixed(0)} ms (medians; with: ${times.with.map((t) => t.toFixed(0)).join(" ")}; without: ${times.without.map((t) => t.toFixed(0)).join(" ")})`);
    console.log(`[signals-ingest] signals' share, steady state: ${(w - wo).toFixed(0)} ms per report = ${(((w - wo) * 1000) / PER_REPORT).toFixed(0)} µs per key-window entry (first sightings ${(((first - wo) * 1000) / PER_REPORT).toFixed(0)} µs); ${(PER_REPORT / (w / 1000)).toFixed(0)} key-windows ingested per second; findings opened ${opened}`);
    console.log(`[signals-ingest] load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  } finally {
    await client.$disconnect();
    await tdb.drop();
  }
});
