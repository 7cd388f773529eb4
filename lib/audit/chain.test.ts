import pg from "pg";
import { describe, expect, test } from "vitest";
import { createDb } from "@/lib/db";
import { createTestDatabase } from "@/test/support/db";
import { useTestDatabase } from "@/test/support/use-test-database";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent, verifyAuditChain } from "./chain";
import { canonicalJSON, eventHash, eventHashFromText, GENESIS_HASH } from "./canonical";
import { auditVerify } from "@/test/support/audit-verify";

const ctx = useTestDatabase(8);
const alice: Actor = { kind: "user", userId: "u1", email: "alice@example.test", name: "Alice", roles: ["admin"], principalId: null };

async function superuser<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ctx.tdb.url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const cli = (bundled = false) => auditVerify({ DATABASE_URL: ctx.tdb.url }, [], { bundled });

test("canonical JSON sorts keys at every depth and drops undefined", () => {
  expect(canonicalJSON({ b: 1, a: { d: [1, { z: 1, y: undefined, x: 2 }], c: "s" } })).toBe('{"a":{"c":"s","d":[1,{"x":2,"z":1}]},"b":1}');
});

test("the text-based hash used by verification equals eventHash, nested data and awkward strings included", () => {
  const content = {
    id: "5f0c2a8e-0000-4000-8000-000000000001",
    at: new Date("2026-12-05T20:41:07.123Z"),
    actor: 'al"ice\\ \u2028 ✓',
    action: "test.text_hash",
    target: null,
    data: JSON.parse(canonicalJSON({ z: [1, 2.5, -0, 1e21, { b: null, a: "x" }], a: { "": true, é: false }, n: Number("12345678901234567890") })) as unknown,
  };
  // n is past 2^53 on purpose: JS holds it rounded (as JSON.parse of the jsonb text would), Postgres keeps every digit.
  // What Postgres hands back: jsonb text with its own key order and spacing.
  const pgText = '{"a": {"": true, "é": false}, "n": 12345678901234567890, "z": [1, 2.5, 0, 1000000000000000000000, {"a": "x", "b": null}]}';
  const expected = eventHash(GENESIS_HASH, content);
  expect(eventHashFromText(GENESIS_HASH, { ...content, at: "2026-12-05T20:41:07.123Z", data: pgText })).toBe(expected);
  expect(eventHashFromText(GENESIS_HASH, { ...content, target: "grant:1", at: "2026-12-05T20:41:07.123Z", data: pgText })).toBe(eventHash(GENESIS_HASH, { ...content, target: "grant:1" }));
});

describe("audit chain", () => {
  test("appends link to the previous event, starting from the genesis hash", async () => {
    const first = await ctx.client.$transaction((tx) => appendAuditEvent(tx, { actor: alice, action: "test.first", data: { n: 1, nested: { b: 2, a: 1 } } }));
    const second = await ctx.client.$transaction((tx) => appendAuditEvent(tx, { actor: systemActor("job"), action: "test.second", target: "grant:1", data: {} }));
    const rows = await ctx.client.auditEvent.findMany({ orderBy: { seq: "asc" } });
    expect(rows[0].prevHash).toBe(GENESIS_HASH);
    expect(rows[0].actor).toBe("alice@example.test");
    expect(rows[1].prevHash).toBe(first.hash);
    expect(rows[1].hash).toBe(second.hash);
    expect(rows[1].actor).toBe("system:job");
    expect(await verifyAuditChain(ctx.client)).toMatchObject({ ok: true, checked: 2 });
  });

  test("numbers JavaScript cannot hold exactly (past 2^53, exponents) are stored with the digits that were hashed", async () => {
    // Written through Prisma's JSON parameter, 12345678901234567890 (held as 12345678901234567000) reached jsonb with
    // other digits than canonicalJSON hashed, and a legitimate event then read as modified.
    const data = { big: Number("12345678901234567890"), pow: 2 ** 60, neg: -(2 ** 55) - 8, huge: 1e21, tiny: 1e-7, list: [Number("9007199254740993"), 0.1] };
    await ctx.client.$transaction((tx) => appendAuditEvent(tx, { actor: alice, action: "test.big_numbers", data }));
    const [row] = await superuser(async (c) => (await c.query<{ data: string }>(`SELECT data::text AS data FROM "AuditEvent" WHERE action = 'test.big_numbers'`)).rows);
    expect(row ? JSON.parse(row.data) : null).toEqual(JSON.parse(canonicalJSON(data)));
    expect(await verifyAuditChain(ctx.client)).toMatchObject({ ok: true });
    expect(await verifyAuditChain(ctx.client, { databaseUrl: ctx.tdb.url })).toMatchObject({ ok: true });
  });

  test("an event rolled back with its transaction leaves no trace and the chain intact", async () => {
    const before = await ctx.client.auditEvent.count();
    await expect(
      ctx.client.$transaction(async (tx) => {
        await appendAuditEvent(tx, { actor: alice, action: "test.rolled_back" });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    expect(await ctx.client.auditEvent.count()).toBe(before);
    expect((await verifyAuditChain(ctx.client)).ok).toBe(true);
  });

  test("refuses to run outside a transaction", async () => {
    await expect(appendAuditEvent(ctx.client as never, { actor: alice, action: "test.no_tx" })).rejects.toThrow(/transaction client/);
  });

  test("concurrent appends from many transactions stay one linear chain", async () => {
    const before = await ctx.client.auditEvent.count();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ctx.client.$transaction(async (tx) => {
          // Some work before the append widens the race window.
          await tx.$executeRaw`SELECT pg_sleep(0.005)`;
          return appendAuditEvent(tx, { actor: alice, action: "test.concurrent", data: { i } });
        }, { maxWait: 30_000, timeout: 30_000 }), // 40 transactions share 8 connections on a busy 2-core machine
      ),
    );
    const rows = await ctx.client.auditEvent.findMany({ orderBy: { seq: "asc" } });
    expect(rows.length).toBe(before + 40);
    const prevs = new Set(rows.map((r) => r.prevHash));
    expect(prevs.size).toBe(rows.length); // no two events share a predecessor: no fork
    const result = await verifyAuditChain(ctx.client, { batchSize: 7 }); // small batches cross batch boundaries
    expect(result).toMatchObject({ ok: true, checked: rows.length });
    expect(await verifyAuditChain(ctx.client, { batchSize: 7, databaseUrl: ctx.tdb.url, connections: 3 })).toEqual(result);
    expect(await verifyAuditChain(ctx.client, { batchSize: 7, databaseUrl: ctx.tdb.url, workers: 2 })).toEqual(result);
  });

  test("tampering with one row as superuser is detected by verifyAuditChain and by npm run audit:verify, naming the event", async () => {
    const clean = await cli();
    expect(clean.code, clean.out).toBe(0);
    expect(clean.out).toMatch(/audit chain OK: \d+ events verified/);

    const target = await ctx.client.auditEvent.findFirstOrThrow({ where: { action: "test.concurrent" }, orderBy: { seq: "asc" }, skip: 5 });
    await superuser(async (c) => {
      await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`);
      await c.query(`UPDATE "AuditEvent" SET data = '{"i": 999}' WHERE id = $1`, [target.id]);
      await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER USER`);
    });
    const result = await verifyAuditChain(ctx.client, { batchSize: 7 });
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ seq: target.seq.toString(), id: target.id, action: "test.concurrent" });
    expect(result.firstBroken!.reason).toMatch(/modified/);
    // The fast readers (binary COPY ranges over several connections; ranges checked in worker threads) say exactly the same.
    expect(await verifyAuditChain(ctx.client, { batchSize: 7, databaseUrl: ctx.tdb.url, connections: 3 })).toEqual(result);
    expect(await verifyAuditChain(ctx.client, { batchSize: 7, databaseUrl: ctx.tdb.url, workers: 2 })).toEqual(result);

    const broken = await cli();
    expect(broken.code).toBe(1);
    expect(broken.out).toContain(`seq=${target.seq} id=${target.id} action=test.concurrent`);
    const viaNpmScript = await cli(true);
    expect(viaNpmScript.code, viaNpmScript.out).toBe(1);
    expect(viaNpmScript.out).toContain(`seq=${target.seq} id=${target.id} action=test.concurrent`);
  }, 300_000); // three runs of audit:verify (one bundling it) on a shared 2-core machine

  test("re-hashing a tampered row does not help: the next event's link breaks", async () => {
    const db2 = await createTestDatabase();
    const c2 = createDb(db2.url, 2);
    try {
      for (let i = 0; i < 3; i++) await c2.$transaction((tx) => appendAuditEvent(tx, { actor: alice, action: "test.rehash", data: { i } }));
      const rows = await c2.auditEvent.findMany({ orderBy: { seq: "asc" } });
      const pgc = new pg.Client({ connectionString: db2.url });
      await pgc.connect();
      await pgc.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`);
      await pgc.query(`UPDATE "AuditEvent" SET actor = 'mallory', hash = $2 WHERE id = $1`, [rows[1].id, "f".repeat(64)]);
      await pgc.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER USER`);
      await pgc.end();
      const result = await verifyAuditChain(c2);
      expect(result.ok).toBe(false);
      // Row 1's own hash is wrong (content changed), reported first.
      expect(result.firstBroken!.id).toBe(rows[1].id);
    } finally {
      await c2.$disconnect();
      await db2.drop();
    }
  });

  test("the database itself refuses UPDATE and DELETE on events", async () => {
    await expect(superuser((c) => c.query(`UPDATE "AuditEvent" SET actor = 'x'`))).rejects.toThrow(/append-only/);
    await expect(superuser((c) => c.query(`DELETE FROM "AuditEvent"`))).rejects.toThrow(/append-only/);
  });
});
