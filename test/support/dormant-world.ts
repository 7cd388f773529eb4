import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createDb } from "@/lib/db";
import { daysAgo, makeApi, makeEnvironment, makeReviewer } from "@/lib/analysis/fixtures";
import { closeAdminPools } from "@/lib/enforcement/admin-client";
import { ADMIN_TOKEN, admin, grantsOnlySnapshot, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { createTestDatabase, freePort } from "./db";

/**
 * The set-up of the delivery tests (lib/enforcement/delivery and recovery): a database
 * of its own with `count` principals, each holding a dormant read grant with an open
 * finding, and the real proxy (a child process persisting to a state file, so a restart
 * keeps its state and idempotency keys) that starts from the same grants and is
 * registered as the production proxy. `close()` stops and removes all of it.
 */
export async function dormantWorld(opts: { count: number; poolSize: number }) {
  const tdb = await createTestDatabase();
  const client = createDb(tdb.url, opts.poolSize);
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "tollgate-delivery-"));
  const ports = { data: await freePort(), admin: await freePort() };
  const startProxy = () => spawnProxy({ PROXY_STATE_FILE: path.join(stateDir, "state.json"), PROXY_ENVIRONMENT: "prod" }, ports);
  let proxy: ProxyProcess = await startProxy();

  const env = await makeEnvironment(client, "production", "prod");
  const { api, scopes } = await makeApi(client, env.id, ["read"]);
  const reviewer = await makeReviewer(client);
  const principals = await client.principal.createManyAndReturn({
    data: Array.from({ length: opts.count }, (_, i) => ({ kind: "user" as const, displayName: `user-${i}` })),
    select: { id: true },
  });
  const grants = await client.grant.createManyAndReturn({
    data: principals.map((p) => ({ principalId: p.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(400), lastUsedAt: daysAgo(200) })),
    select: { id: true, principalId: true },
  });
  const findings = await client.finding.createManyAndReturn({
    data: grants.map((g) => ({ grantId: g.id, rule: "dormant" as const, severity: "medium" as const, riskScore: 50, evidence: {}, suggestion: "Revoke" })),
    select: { id: true, grantId: true },
  });
  const byGrant = new Map(findings.map((f) => [f.grantId, f.id]));
  const api0 = { id: api.id, name: api.name, prefix: "/orders", upstream: "http://127.0.0.1:1" };
  const snap = await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", grantsOnlySnapshot("initial", api0, grants.map((g) => ({ ...g, scopeId: scopes.read.id }))));
  if (snap.status !== 200) throw new Error(`initial snapshot: ${snap.status} ${JSON.stringify(snap.body)}`);
  await client.proxy.create({ data: { name: "prod-edge", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });

  return {
    tdb,
    client,
    reviewer,
    grantIds: grants.map((g) => g.id),
    /** The open finding of each grant, in the order of `grantIds`. */
    findingIds: grants.map((g) => byGrant.get(g.id)!),
    get proxy() {
      return proxy;
    },
    /** Starts the proxy again on the same ports and state file (after `proxy.stop()`). */
    async restartProxy() {
      proxy = await startProxy();
    },
    async close() {
      await proxy.stop();
      await closeAdminPools();
      await client.$disconnect();
      await tdb.drop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
export type DormantWorld = Awaited<ReturnType<typeof dormantWorld>>;

/** The delivery worker as a process of its own (lib/enforcement/run-worker.ts), with small batches and a short lease, so a test can kill it mid-batch. */
export function spawnWorkerProcess(databaseUrl: string) {
  const child = spawn(process.execPath, ["--import", "tsx", path.resolve("lib/enforcement/run-worker.ts")], {
    env: { ...process.env, DATABASE_URL: databaseUrl, WORKER_BATCH_SIZE: "20", WORKER_LEASE_MS: "1000", WORKER_POLL_MS: "100" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => child.once("exit", r));
  return { child, exited, output: () => out };
}
