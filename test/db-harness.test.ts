import { afterAll, beforeAll, expect, test } from "vitest";
import pg from "pg";
import { createTestDatabase, type TestDatabase } from "./support/db";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.drop());

test("migrations create the inventory and make the audit log append-only", async () => {
  const c = new pg.Client({ connectionString: tdb.url });
  await c.connect();
  try {
    const { rows } = await c.query(`select count(*)::int as n from information_schema.tables where table_name in ('Grant','Principal','Api','AuditEvent')`);
    expect(rows[0].n).toBe(4);
    await c.query(`insert into "AuditEvent"(id, actor, action, data, "prevHash", hash) values (gen_random_uuid(), 'test', 'x', '{}', '0', '1')`);
    await expect(c.query(`update "AuditEvent" set actor = 'mallory'`)).rejects.toThrow(/append-only/);
    await expect(c.query(`delete from "AuditEvent"`)).rejects.toThrow(/append-only/);
  } finally {
    await c.end();
  }
});
