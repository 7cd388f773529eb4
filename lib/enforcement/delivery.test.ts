import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { ADMIN_TOKEN, admin, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { daysAgo, makeApi, makeEnvironment, makeReviewer } from "@/lib/analysis/fixtures";
import { bulkRevoke, revokeGrant } from "@/lib/review";
import { closeAdminPools } from "./admin-client";
import { startDeliveryWorker, type DeliveryWorker } from "./worker";

// The real proxy (proxy/main.ts) as a child process, persisting to a state
// file so a restart keeps its state and idempotency keys.
let tdb: TestDatabase;
let client: PrismaClient;
let proxy: ProxyProcess;
let ports: { data: number; admin: number };
let stateDir: string;
let reviewer: Awaited<ReturnType<typeof makeReviewer>>;
let worker: DeliveryWorker | undefined;
let findingIds: string[] = [];
let grantIds: string[] = [];

const startProxy = () => spawnProxy({ PROXY_STATE_FILE: path.join(stateDir, "state.json"), PROXY_ENVIRONMENT: "prod" }, ports);
const proxyState = async () => (await admin(proxy.adminUrl, "GET", "/admin/v1/state")).body as { revision: number; counts: { grants: number } };

// Verdicts wait on conditions; the caps below only stop a test that would otherwise hang, and are
// wide on purpose: on a busy 2-core machine a 500-decision bulk revoke alone can take minutes (issue 14).
const LONG = 600_000;

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 8);
  stateDir = await mkdtemp(path.join(os.tmpdir(), "tollgate-delivery-"));
  ports = { data: await freePort(), admin: await freePort() };
  proxy = await startProxy();

  const env = await makeEnvironment(client, "production", "prod");
  const { api, scopes } = await makeApi(client, env.id, ["read"]);
  reviewer = await makeReviewer(client);
  // 1,001 principals with a dormant read grant each, and an open finding per grant.
  const principals = await client.principal.createManyAndReturn({
    data: Array.from({ length: 1001 }, (_, i) => ({ kind: "user" as const, displayName: `user-${i}` })),
    select: { id: true },
  });
  const grants = await client.grant.createManyAndReturn({
    data: principals.map((p) => ({ principalId: p.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(400), lastUsedAt: daysAgo(200) })),
    select: { id: true, principalId: true },
  });
  grantIds = grants.map((g) => g.id);
  const findings = await client.finding.createManyAndReturn({
    data: grants.map((g) => ({ grantId: g.id, rule: "dormant" as const, severity: "medium" as const, riskScore: 50, evidence: {}, suggestion: "Revoke" })),
    select: { id: true, grantId: true },
  });
  const byGrant = new Map(findings.map((f) => [f.grantId, f.id]));
  findingIds = grantIds.map((id) => byGrant.get(id)!);
  // The proxy starts from the same state the database has.
  const snap = await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", {
    idempotencyKey: "initial",
    apis: [{ id: api.id, name: api.name, prefix: "/orders", upstream: "http://127.0.0.1:1" }],
    routes: [],
    credentials: [],
    grants: grants.map((g) => ({ id: g.id, principalId: g.principalId, scopeId: scopes.read.id, expiresAt: null })),
  });
  expect(snap.status).toBe(200);
  await client.proxy.create({ data: { name: "prod-edge", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
}, LONG);

afterAll(async () => {
  await worker?.stop();
  await proxy?.stop();
  await closeAdminPools();
  await client?.$disconnect();
  await tdb?.drop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

const appliedCount = (ids: string[]) => client.decision.count({ where: { findingId: { in: ids }, enforcement: "applied" } });

describe("enforcement delivery to the real proxy", () => {
  test("a revoke is delivered right after commit, acknowledged with the proxy revision and verified removed", { timeout: LONG }, async () => {
    // A 10-minute poll, so a delivery well within it can only have come from the wake-up.
    worker = await startDeliveryWorker({ client, pollMs: 600_000, listenUrl: tdb.url });
    const before = await proxyState();
    const started = Date.now();
    const r = await revokeGrant(reviewer.actor, { findingId: findingIds[0] }, client);
    const d = await until("applied", () => client.decision.findUniqueOrThrow({ where: { id: r.decisionId } }), (d) => d.enforcement === "applied");
    // Not the poll: the in-process wake-up delivered it (a margin of minutes, not a speed target; see bench/review.ts).
    expect(Date.now() - started).toBeLessThan(300_000);
    const row = await client.outboxItem.findFirstOrThrow({ where: { decisionId: r.decisionId } });
    expect(row.appliedRevision).toBe(BigInt(before.revision + 1));
    expect(d.enforcedAt).not.toBeNull();
    expect((await admin(proxy.adminUrl, "GET", `/admin/v1/grants/${grantIds[0]}`)).status).toBe(404);
    await until("verified", () => client.decision.findUniqueOrThrow({ where: { id: r.decisionId } }), (d) => d.verifiedRemovedAt !== null);
  });

  test("proxy down: 500 decisions are all applied exactly once after it comes back", { timeout: 2 * LONG }, async () => {
    await worker?.stop();
    worker = await startDeliveryWorker({ client, pollMs: 200, baseBackoffMs: 100, maxBackoffMs: 500, verify: false });
    const before = await proxyState();
    await proxy.stop();
    const ids = findingIds.slice(1, 501);
    const r = await bulkRevoke(reviewer.actor, { findingIds: ids }, client);
    expect(r.decided).toHaveLength(500);
    // Deliveries fail and are retried with backoff, none is given up on.
    await until("delivery errors", () => client.outboxItem.count({ where: { lastError: { not: null }, status: "pending" } }), (n) => n > 0);
    expect(await appliedCount(ids)).toBe(0);
    proxy = await startProxy();
    await until("500 applied", () => appliedCount(ids), (n) => n === 500, LONG);
    const after = await proxyState();
    // One revision per decision: no decision was applied twice, none was lost.
    expect(after.revision - before.revision).toBe(500);
    expect(after.counts.grants).toBe(before.counts.grants - 500);
    expect(await client.outboxItem.count({ where: { status: { not: "applied" } } })).toBe(0);
  });

  test("worker killed mid-batch: a new worker finishes the rest, each decision still applied once", { timeout: 2 * LONG }, async () => {
    await worker?.stop();
    worker = undefined;
    const before = await proxyState();
    const ids = findingIds.slice(501, 801);
    expect((await bulkRevoke(reviewer.actor, { findingIds: ids }, client)).decided).toHaveLength(300);
    const child = spawn(process.execPath, ["--import", "tsx", path.resolve("lib/enforcement/run-worker.ts")], {
      env: { ...process.env, DATABASE_URL: tdb.url, WORKER_BATCH_SIZE: "20", WORKER_LEASE_MS: "1000", WORKER_POLL_MS: "100" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise((r) => child.once("exit", r));
    const atKill = await until("some applied", () => client.outboxItem.count({ where: { status: "applied", decision: { findingId: { in: ids } } } }), (n) => n >= 40, LONG).catch((e) => {
      throw new Error(`${(e as Error).message}\n${out}`);
    });
    child.kill("SIGKILL");
    await exited;
    const appliedAtKill = await appliedCount(ids);
    expect(appliedAtKill).toBeLessThan(300);
    expect(atKill).toBeGreaterThanOrEqual(40);
    // The rows the dead worker had claimed come back after their lease expires.
    worker = await startDeliveryWorker({ client, pollMs: 200, leaseMs: 1000, verify: false });
    await until("300 applied", () => appliedCount(ids), (n) => n === 300, LONG);
    const after = await proxyState();
    expect(after.revision - before.revision).toBe(300);
    expect(after.counts.grants).toBe(before.counts.grants - 300);
  });
});
