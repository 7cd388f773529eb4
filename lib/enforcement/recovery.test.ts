import { afterAll, beforeAll, describe, expect, test } from "vitest";
import pg from "pg";
import type { PrismaClient } from "@/lib/db";
import { admin } from "@/proxy/test-support";
import { dormantWorld, spawnWorkerProcess, type DormantWorld } from "@/test/support/dormant-world";
import { until } from "@/test/support/until";
import { bulkRevoke, revokeGrant } from "@/lib/review";
import { LISTENER_APPLICATION_NAME, startDeliveryWorker, type DeliveryWorker } from "./worker";

// Issue 14, item 4, against the real proxy and real Postgres: the LISTEN
// connection comes back after it is killed, and a worker killed between
// "applied" and "verified removed" leaves the removal check to the next worker.
let w: DormantWorld;
let client: PrismaClient;
let reviewer: DormantWorld["reviewer"];
let worker: DeliveryWorker | undefined;
let findingIds: string[] = [];
// Caps only stop a hang; verdicts wait on conditions (a busy 2-core machine can take minutes to start a worker).
const LONG = 600_000;
const onRealPostgres = () => /\/tollgate_test_[0-9a-f]+$/.test(new URL(w.tdb.url).pathname);

async function sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: w.tdb.url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

const listenerPids = async () =>
  (await sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, [LISTENER_APPLICATION_NAME])).map((r) => r.pid);

beforeAll(async () => {
  w = await dormantWorld({ count: 301, poolSize: 6 });
  ({ client, reviewer, findingIds } = w);
}, LONG);

afterAll(async () => {
  await worker?.stop();
  await w?.close();
});

describe("delivery recovers", () => {
  test("the LISTEN connection is re-established after its backend is killed, and a NOTIFY is delivered afterwards", { timeout: 2 * LONG }, async (ctx) => {
    if (!onRealPostgres()) ctx.skip(); // the embedded server never delivers NOTIFY
    // A committed revoke whose outbox row is parked an hour ahead: no worker runs yet.
    const r = await revokeGrant(reviewer.actor, { findingId: findingIds[300] }, client);
    await client.outboxItem.updateMany({ where: { decisionId: r.decisionId }, data: { nextAttemptAt: new Date(Date.now() + 3_600_000) } });
    // Poll every 10 minutes: within this test only a NOTIFY can start a delivery.
    worker = await startDeliveryWorker({ client, listenUrl: w.tdb.url, pollMs: 600_000, verify: false });
    const [first] = await until("the listener", listenerPids, (p) => p.length === 1, LONG);

    await sql(`SELECT pg_terminate_backend($1)`, [first]);
    const [second] = await until("a new listener", listenerPids, (p) => p.length === 1 && p[0] !== first, LONG);
    expect(second).not.toBe(first);
    await worker.idle();
    expect((await client.decision.findUniqueOrThrow({ where: { id: r.decisionId } })).enforcement).toBe("pending");

    // Another process makes the row due and notifies, as a decision's commit does.
    await sql(`UPDATE "OutboxItem" SET "nextAttemptAt" = now() WHERE "decisionId" = $1::uuid`, [r.decisionId]);
    await sql(`SELECT pg_notify('tollgate_outbox', '')`);
    await until("applied through NOTIFY", () => client.decision.findUniqueOrThrow({ where: { id: r.decisionId } }), (d) => d.enforcement === "applied", LONG);
    await worker.stop();
    worker = undefined;
  });

  test("worker killed during a bulk revoke: every applied decision still gets its removal proof", { timeout: 3 * LONG }, async () => {
    const ids = findingIds.slice(0, 300);
    expect((await bulkRevoke(reviewer.actor, { findingIds: ids }, client)).decided).toHaveLength(300);
    const { child, exited, output } = spawnWorkerProcess(w.tdb.url);
    const applied = () => client.decision.count({ where: { findingId: { in: ids }, enforcement: "applied" } });
    const verified = () => client.decision.count({ where: { findingId: { in: ids }, verifiedRemovedAt: { not: null } } });
    await until("some applied", applied, (n) => n >= 40, LONG).catch((e) => {
      throw new Error(`${(e as Error).message}\n${output()}`);
    });
    // Kill it at a moment when some applied decisions still lack their proof. The worker is
    // frozen (SIGSTOP) while we look, so what we see is what the kill leaves; on a busy
    // machine the proofs can catch up between two looks, so look again until they have not.
    for (let look = 0; ; look++) {
      child.kill("SIGSTOP");
      if ((await verified()) < (await applied()) || look >= 2_000) break;
      child.kill("SIGCONT");
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGKILL");
    await exited;
    const [appliedAtKill, verifiedAtKill] = [await applied(), await verified()];
    // The kill left decisions applied without their proof (the state issue 14 found).
    expect(verifiedAtKill).toBeLessThan(appliedAtKill);

    worker = await startDeliveryWorker({ client, pollMs: 200, leaseMs: 1000, baseBackoffMs: 100, maxBackoffMs: 1000 });
    await until("300 applied", applied, (n) => n === 300, LONG);
    await until("300 verified removed", verified, (n) => n === 300, LONG);
    // ...and the proof is true: the proxy no longer has any of those grants.
    const state = (await admin(w.proxy.adminUrl, "GET", "/admin/v1/state")).body as { counts: { grants: number } };
    expect(state.counts.grants).toBe(301 - (await client.grant.count({ where: { status: "revoked" } })));
  });
});
