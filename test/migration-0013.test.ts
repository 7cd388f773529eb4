import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { fixedId, migrationSql as sql, migrations } from "@/test/support/migrations";

// Migration 0013 (issue 17, scope sets): EndpointScope rows written before it
// meant "any one of these scopes"; each must become its own single-scope
// alternative. And from then on, deleting one member of a set deletes the set.

let tdb: TestDatabase;
let c: pg.Client;
const id = fixedId;

beforeAll(async () => {
  tdb = await createTestDatabase({ migrate: false });
  c = new pg.Client({ connectionString: tdb.url });
  await c.connect();
  for (const m of migrations.filter((m) => m < "0013")) await c.query(sql(m));
  // The old shape: an endpoint accepting any one of x, y.
  await c.query(`INSERT INTO "Environment" (id, name, tier) VALUES ('${id(1)}', 'production', 'production')`);
  await c.query(`INSERT INTO "Api" (id, name, "baseUrl", "environmentId", "updatedAt") VALUES ('${id(2)}', 'orders', 'http://u', '${id(1)}', now())`);
  for (const [n, name] of [[3, "x"], [4, "y"], [5, "p"], [6, "q"]] as const) {
    await c.query(`INSERT INTO "Scope" (id, "apiId", name, level) VALUES ('${id(n)}', '${id(2)}', '${name}', 'read')`);
  }
  await c.query(`INSERT INTO "Endpoint" (id, "apiId", method, "pathTemplate") VALUES ('${id(7)}', '${id(2)}', 'GET', '/orders'), ('${id(8)}', '${id(2)}', 'GET', '/stats')`);
  await c.query(`INSERT INTO "EndpointScope" ("endpointId", "scopeId") VALUES ('${id(7)}', '${id(3)}'), ('${id(7)}', '${id(4)}')`);
  for (const m of migrations.filter((m) => m >= "0013")) await c.query(sql(m));
});

afterAll(async () => {
  await c?.end();
  await tdb?.drop();
});

const rows = async (endpoint: number) =>
  (await c.query<{ requirementId: string; scopeId: string }>(`SELECT "requirementId", "scopeId" FROM "EndpointScope" WHERE "endpointId" = '${id(endpoint)}' ORDER BY "scopeId"`)).rows;

test("each existing row becomes a single-scope alternative (today's 'any one of' is kept)", async () => {
  const r = await rows(7);
  expect(r.map((x) => x.scopeId)).toEqual([id(3), id(4)]);
  expect(new Set(r.map((x) => x.requirementId)).size).toBe(2);
});

test("a row inserted without a requirementId is a new alternative of its own", async () => {
  await c.query(`INSERT INTO "EndpointScope" ("endpointId", "scopeId") VALUES ('${id(8)}', '${id(5)}'), ('${id(8)}', '${id(6)}')`);
  expect(new Set((await rows(8)).map((x) => x.requirementId)).size).toBe(2);
});

test("deleting one scope of a set removes the whole set, never leaving a wider one", async () => {
  // /stats becomes "p AND q" (one requirement), /orders stays "x, or y".
  await c.query(`DELETE FROM "EndpointScope" WHERE "endpointId" = '${id(8)}'`);
  await c.query(`INSERT INTO "EndpointScope" ("endpointId", "requirementId", "scopeId") VALUES ('${id(8)}', '${id(9)}', '${id(5)}'), ('${id(8)}', '${id(9)}', '${id(6)}')`);
  await c.query(`DELETE FROM "Scope" WHERE id = '${id(6)}'`); // cascades to its EndpointScope row
  expect(await rows(8)).toEqual([]); // p alone would have let every holder of p in
  // Deleting y removes only y's own single-scope alternative.
  await c.query(`DELETE FROM "Scope" WHERE id = '${id(4)}'`);
  expect((await rows(7)).map((x) => x.scopeId)).toEqual([id(3)]);
});
