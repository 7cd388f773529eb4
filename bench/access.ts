/**
 * Granting-access benchmark (issue 16): `npx tsx bench/access.ts [--approvals 100] [--grants 200] [--lead-ms 30000] [--keys 10000]`
 *
 * On a fresh database of its own (real Postgres) with the REAL proxy (proxy/main.ts, child process) and the
 * delivery worker (in-process wake-up + LISTEN), as lib/access/test-world.ts builds it:
 * 1. approval commit → first allowed request: per service account (key already at the proxy, 403), an
 *    access request is approved (approveAccessRequest returns after commit); then GET through the proxy
 *    until 200. p50/p95/max over --approvals. Target: p95 ≤ 100 ms.
 * 2. grant expiry → first 403: --grants time-boxed grants (one per service account, ends 25 ms apart, the
 *    first --lead-ms ahead, default 30 s, so that setup finishes first);
 *    from 20 ms before each end a poller GETs every ~1 ms until 403. Reported: first 403 − expiresAt,
 *    p50/p99/max. The delivery worker is STOPPED first: the proxy ends access on its own. Target: p99 ≤ 1 s.
 * 3. issuing keys through POST /api/v1/keys (the route handler, called in-process with a service token holding
 *    credentials:manage): --single keys one per call, 8 calls at a time; then --keys keys in batches of 1000
 *    (one transaction, one audit event per batch). Target: 10,000 in ≤ 30 s.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { systemActor } from "@/lib/auth/actor";
import { accessWorld } from "@/lib/access/test-world";
import { issueKey } from "@/lib/access/credentials";
import { approveAccessRequest, requestAccess } from "@/lib/access/requests";
import { reconcileProxies } from "@/lib/enforcement/reconcile";
import { createServiceToken } from "@/lib/auth/service-tokens";

const { values: o } = parseArgs({ options: { approvals: { type: "string", default: "100" }, grants: { type: "string", default: "200" }, "lead-ms": { type: "string", default: "30000" }, keys: { type: "string", default: "10000" }, single: { type: "string", default: "1000" } } });
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const f = (n: number) => n.toFixed(1);

async function main() {
  // proxy/test-support.ts finds proxy/main.ts from __dirname; outside vitest (tsx, ESM) that name is the
  // global the generated Prisma client defines (lib/generated/prisma), so point it at proxy/ here.
  (globalThis as { __dirname?: string }).__dirname = path.resolve("proxy");
  const w = await accessWorld();
  process.env.DATABASE_URL = w.tdb.url; // the route handler's db()
  const nApprovals = Number(o.approvals);
  const nGrants = Number(o.grants);
  const nKeys = Number(o.keys);
  const nSingle = Number(o.single);
  try {
    // Service accounts with a key each, delivered to the proxy (403: known key, no grant).
    const total = nApprovals + nGrants;
    const sas = await w.client.principal.createManyAndReturn({
      data: Array.from({ length: total }, (_, i) => ({ kind: "service_account" as const, displayName: `bench-sa-${i}`, teamId: w.team.id, managerId: w.owner.actor.principalId, homeEnvironmentId: w.env.id })),
      select: { id: true },
    });
    const keys: string[] = [];
    for (const sa of sas) keys.push((await issueKey(w.owner.actor, { principalId: sa.id }, w.client)).key);
    for (;;) {
      if ((await w.client.accessChange.count({ where: { enforcement: "pending" } })) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    // 1. approval commit → first 200.
    const lat: number[] = [];
    for (let i = 0; i < nApprovals; i++) {
      const r = await requestAccess(w.owner.actor, { principalId: sas[i].id, apiId: w.api.id, scopeIds: [w.scopes.write.id], reason: "bench", duration: "1h" }, w.client);
      await approveAccessRequest(w.reviewer.actor, { requestId: r.requestId }, w.client);
      const t0 = performance.now();
      while ((await w.get(keys[i])) !== 200) {
        if (performance.now() - t0 > 10_000) throw new Error("no 200 within 10 s");
      }
      lat.push(performance.now() - t0);
    }
    if (nApprovals > 0) console.log(`[access] approval commit → first 200 at the proxy, ${nApprovals} approvals: p50 ${f(pct(lat, 50))} ms, p95 ${f(pct(lat, 95))} ms, max ${f(Math.max(...lat))} ms`);

    // 2. expiry → first 403, with the dashboard's worker stopped.
    // The first end lies far enough ahead for the setup below (creating, pushing and checking the grants),
    // which takes seconds on a loaded machine; the lead does not enter the figure (end → first 403).
    const base = Date.now() + Number(o["lead-ms"]);
    const ends = Array.from({ length: nGrants }, (_, i) => new Date(base + i * 25));
    await w.client.grant.createMany({
      data: ends.map((end, i) => ({ principalId: sas[nApprovals + i].id, scopeId: w.scopes.read.id, environmentId: w.env.id, expiresAt: end, origin: "request" })),
    });
    await reconcileProxies(w.client); // pushes the grants (drift repair)
    for (let i = nApprovals; i < total; i++) if ((await w.get(keys[i])) !== 200) throw new Error(`grant ${i} not live before its end`);
    await w.worker.stop();
    if (Date.now() > base - 100) throw new Error("setup took too long; first grant ends before polling starts");
    const gaps = await Promise.all(
      ends.map(
        (end, i) =>
          new Promise<number>((resolve, reject) => {
            setTimeout(async () => {
              const until = end.getTime() + 5_000;
              for (;;) {
                const s = await w.get(keys[nApprovals + i]);
                const now = Date.now();
                if (s === 403) return resolve(Math.max(0, now - end.getTime()));
                if (s !== 200 || now > until) return reject(new Error(`grant ${i}: ${s} at +${now - end.getTime()} ms`));
                await new Promise((r) => setTimeout(r, 1));
              }
            }, Math.max(0, end.getTime() - 20 - Date.now()));
          }),
      ),
    );
    console.log(`[access] grant end → first 403 (worker stopped), ${nGrants} grants: p50 ${f(pct(gaps, 50))} ms, p99 ${f(pct(gaps, 99))} ms, max ${f(Math.max(...gaps))} ms`);

    // 3. keys through POST /api/v1/keys: one per call (8 concurrent), then batches of 1000 in one transaction each.
    const { token } = await createServiceToken(systemActor("bench"), { name: "bench-provisioner", scopes: ["credentials:manage"] }, w.client);
    const route = await import("@/app/api/v1/keys/route");
    const post = (body: unknown) =>
      route.POST(new Request("http://localhost/api/v1/keys", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) }), {});
    const target = sas[0].id;
    let next = 0;
    let t0 = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < nSingle) {
          next++;
          const res = await post({ principalId: target });
          if (res.status !== 201) throw new Error(`issue: ${res.status} ${await res.text()}`);
        }
      }),
    );
    let secs = (performance.now() - t0) / 1000;
    if (nSingle > 0) console.log(`[access] ${nSingle} keys, one per POST /api/v1/keys (8 concurrent): ${secs.toFixed(1)} s (${Math.round(nSingle / secs)} keys/s)`);
    t0 = performance.now();
    let issued = 0;
    while (issued < nKeys) {
      const n = Math.min(1000, nKeys - issued);
      const res = await post({ keys: Array.from({ length: n }, (_, i) => ({ principalId: sas[(issued + i) % sas.length].id })) });
      if (res.status !== 201) throw new Error(`bulk issue: ${res.status} ${await res.text()}`);
      issued += ((await res.json()) as { keys: unknown[] }).keys.length;
    }
    secs = (performance.now() - t0) / 1000;
    console.log(`[access] ${issued} keys in batches of 1000 through POST /api/v1/keys: ${secs.toFixed(1)} s (${Math.round(issued / secs)} keys/s)`);
  } finally {
    await w.close();
    const { db } = await import("@/lib/db");
    await db().$disconnect().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
