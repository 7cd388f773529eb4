import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { PrismaClient } from "@/lib/db";
import { admin } from "@/proxy/test-support";
import { dormantWorld, spawnWorkerProcess, type DormantWorld } from "@/test/support/dormant-world";
import { until } from "@/test/support/until";
import { bulkRevoke, revokeGrant } from "@/lib/review";
import { startDeliveryWorker, type DeliveryWorker } from "./worker";

// The real proxy (proxy/main.ts) as a child process, persisting to a state
// file so a restart keeps its state and idempotency keys.
let w: DormantWorld;
let client: PrismaClient;
let reviewer: DormantWorld["reviewer"];
let worker: DeliveryWorker | undefined;
let findingIds: string[] = [];
let grantIds: string[] = [];

const proxyState = async () => (await admin(w.proxy.adminUrl, "GET", "/admin/v1/state")).body as { revision: number; counts: { grants: number } };

// Verdicts wait on conditions; the caps below only stop a test that would otherwise hang, and are
// wide on purpose: on a busy 2-core machine a 500-decision bulk revoke alone can take minutes (issue 14).
const LONG = 600_000;

beforeAll(async () => {
  // 1,001 principals with a dormant read grant each, and an open finding per grant.
  w = await dormantWorld({ count: 1001, poolSize: 8 });
  ({ client, reviewer, findingIds, grantIds } = w);
}, LONG);

afterAll(async () => {
  await worker?.stop();
  await w?.close();
});

const appliedCount = (ids: string[]) => client.decision.count({ where: { findingId: { in: ids }, enforcement: "applied" } });

describe("enforcement delivery to the real proxy", () => {
  test("a revoke is delivered right after commit, acknowledged with the proxy revision and verified removed", { timeout: LONG }, async () => {
    // A 10-minute poll, so a delivery well within it can only have come from the wake-up.
    worker = await startDeliveryWorker({ client, pollMs: 600_000, listenUrl: w.tdb.url });
    const before = await proxyState();
    const started = Date.now();
    const r = await revokeGrant(reviewer.actor, { findingId: findingIds[0] }, client);
    const d = await until("applied", () => client.decision.findUniqueOrThrow({ where: { id: r.decisionId } }), (d) => d.enforcement === "applied", 120_000);
    // Not the poll: the in-process wake-up delivered it (a margin of minutes, not a speed target; see bench/review.ts).
    expect(Date.now() - started).toBeLessThan(300_000);
    const row = await client.outboxItem.findFirstOrThrow({ where: { decisionId: r.decisionId } });
    expect(row.appliedRevision).toBe(BigInt(before.revision + 1));
    expect(d.enforcedAt).not.toBeNull();
    expect((await admin(w.proxy.adminUrl, "GET", `/admin/v1/grants/${grantIds[0]}`)).status).toBe(404);
    await until("verified", () => client.decision.findUniqueOrThrow({ where: { id: r.decisionId } }), (d) => d.verifiedRemovedAt !== null, 120_000);
  });

  test("proxy down: 500 decisions are all applied exactly once after it comes back", { timeout: 2 * LONG }, async () => {
    await worker?.stop();
    worker = await startDeliveryWorker({ client, pollMs: 200, baseBackoffMs: 100, maxBackoffMs: 500, verify: false });
    const before = await proxyState();
    await w.proxy.stop();
    const ids = findingIds.slice(1, 501);
    const r = await bulkRevoke(reviewer.actor, { findingIds: ids }, client);
    expect(r.decided).toHaveLength(500);
    // Deliveries fail and are retried with backoff, none is given up on.
    await until("delivery errors", () => client.outboxItem.count({ where: { lastError: { not: null }, status: "pending" } }), (n) => n > 0, 120_000);
    expect(await appliedCount(ids)).toBe(0);
    await w.restartProxy();
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
    const { child, exited, output } = spawnWorkerProcess(w.tdb.url);
    const atKill = await until("some applied", () => client.outboxItem.count({ where: { status: "applied", decision: { findingId: { in: ids } } } }), (n) => n >= 40, LONG).catch((e) => {
      throw new Error(`${(e as Error).message}\n${output()}`);
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
