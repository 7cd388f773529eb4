import { afterAll, beforeAll, describe, expect, test } from "vitest";
import pg from "pg";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor } from "@/lib/auth/actor";
import { AppError } from "@/lib/errors";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { DEAD_AFTER_MS, runAnalysis } from "./run";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal } from "./fixtures";

// Issue 14, item 4: an analysis run in flight when the database went away used
// to stay "running" and refuse every new run with a 409 for 30 minutes.
let tdb: TestDatabase;
let client: PrismaClient;
let dbName = "";
const system = systemActor("test");
const onRealPostgres = () => /\/tollgate_test_[0-9a-f]+$/.test(new URL(tdb.url).pathname);

async function serverQuery(sql: string) {
  const u = new URL(tdb.url);
  u.pathname = "/postgres";
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 300_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch((e: unknown) => e as T);
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${String(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const errorOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

beforeAll(async () => {
  tdb = await createTestDatabase();
  dbName = new URL(tdb.url).pathname.slice(1);
  client = createDb(tdb.url, 4);
  const env = await makeEnvironment(client, "production");
  const { scopes } = await makeApi(client, env.id);
  const p = await makePrincipal(client);
  await makeGrant(client, { principalId: p.id, scopeId: scopes.read.id, environmentId: env.id, lastUsedAt: daysAgo(200) });
});

afterAll(async () => {
  if (dbName) await serverQuery(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
  await client?.$disconnect();
  await tdb?.drop();
});

describe("analysis run recovery", () => {
  test("the database goes away mid-run: once it is back the run reads failed and a new run starts", { timeout: 900_000 }, async (ctx) => {
    if (!onRealPostgres()) ctx.skip(); // needs ALTER DATABASE on a server of our own choosing
    // Hold the run mid-flight: it blocks on a table lock we hold, so it is certainly running.
    const blocker = new pg.Client({ connectionString: tdb.url });
    blocker.on("error", () => undefined); // terminated below, on purpose
    await blocker.connect();
    await blocker.query(`BEGIN; LOCK TABLE "Grant" IN ACCESS EXCLUSIVE MODE`);
    const run = errorOf(runAnalysis(system, {}, client));
    await until(
      "the run to wait on the lock",
      async () => (await serverQuery(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = '${dbName}' AND wait_event_type = 'Lock'`)).rows[0].n,
      (n) => n > 0,
    );
    expect(await client.analysisRun.count({ where: { status: "running" } })).toBe(1);

    // The outage: no new connections, every open one killed (the run's transaction with them).
    await serverQuery(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS false`);
    await serverQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}'`);
    expect(await run).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 1_500)); // the database stays away for a while
    await serverQuery(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS true`);

    // Back: the run is recorded as failed (not left "running"), and Run analysis works again.
    const dead = await until("the run to read failed", () => client.analysisRun.findFirstOrThrow({ orderBy: { startedAt: "asc" } }), (r) => r?.status === "failed");
    expect(dead.error).toBeTruthy();
    const again = await runAnalysis(system, {}, client);
    expect((await client.analysisRun.findUniqueOrThrow({ where: { id: again.runId } })).status).toBe("succeeded");

    // No pooled connection was lost with the killed transaction (lib/db/adapter.ts): all four
    // of the pool's connections can hold a transaction at the same time.
    let inside = 0;
    const together = await Promise.all(
      Array.from({ length: 4 }, () =>
        client.$transaction(
          async (tx) => {
            await tx.$queryRaw`SELECT 1`;
            inside++;
            const end = Date.now() + 120_000; // a leaked slot keeps the fourth out for good; this only caps the wait
            while (inside < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
            return inside;
          },
          { maxWait: 180_000, timeout: 240_000 },
        ),
      ),
    );
    expect(together).toEqual([4, 4, 4, 4]);
  });

  test("a run whose heartbeat stopped no longer blocks; a live run still does, however long it has been running", async () => {
    await client.analysisRun.updateMany({ where: { status: "running" }, data: { status: "failed" } });
    const longAgo = new Date(Date.now() - 3_600_000);
    // Live: started an hour ago, heartbeat just now (a big inventory on a slow machine).
    const live = await client.analysisRun.create({ data: { status: "running", startedAt: longAgo, heartbeatAt: new Date() } });
    const refused = await errorOf(runAnalysis(system, {}, client));
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe("conflict");
    expect((await client.analysisRun.findUniqueOrThrow({ where: { id: live.id } })).status).toBe("running");

    // Dead: its process was killed 10 minutes ago, so its heartbeat stopped then.
    await client.analysisRun.update({ where: { id: live.id }, data: { startedAt: new Date(Date.now() - 600_000), heartbeatAt: new Date(Date.now() - DEAD_AFTER_MS - 60_000) } });
    const r = await runAnalysis(system, {}, client);
    expect((await client.analysisRun.findUniqueOrThrow({ where: { id: r.runId } })).status).toBe("succeeded");
    const old = await client.analysisRun.findUniqueOrThrow({ where: { id: live.id } });
    expect(old.status).toBe("failed");
    expect(old.error).toMatch(/no heartbeat/);
  });
});
