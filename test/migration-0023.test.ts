import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { fixedId, migrationSql as sql, migrations } from "@/test/support/migrations";

// Migration 0023 (issue 20, point 6): a two-person-rule proposal is a state of its
// own. Proposals written before it were stored with the enforcement their plan
// would need ('pending' for a revoke); each must become 'proposed', and nothing
// else may change. From then on the database keeps "awaitingConfirmation" equal
// to enforcement = 'proposed'.

let tdb: TestDatabase;
let c: pg.Client;
const id = fixedId;
const decision = (n: number, kind: string, awaiting: boolean, enforcement: string, extra = "") =>
  `INSERT INTO "Decision" (id, "grantId", kind, "deciderId", "awaitingConfirmation", enforcement${extra ? ', discard, "discardedAt"' : ""})
   VALUES ('${id(n)}', '${id(5)}', '${kind}', '${id(6)}', ${awaiting}, '${enforcement}'${extra})`;

beforeAll(async () => {
  tdb = await createTestDatabase({ migrate: false });
  c = new pg.Client({ connectionString: tdb.url });
  await c.connect();
  for (const m of migrations.filter((m) => m < "0023")) await c.query(sql(m));
  await c.query(`INSERT INTO "Environment" (id, name, tier) VALUES ('${id(1)}', 'production', 'production')`);
  await c.query(`INSERT INTO "Api" (id, name, "baseUrl", "environmentId", "updatedAt") VALUES ('${id(2)}', 'orders', 'http://u', '${id(1)}', now())`);
  await c.query(`INSERT INTO "Scope" (id, "apiId", name, level) VALUES ('${id(3)}', '${id(2)}', 'orders:admin', 'admin')`);
  await c.query(`INSERT INTO "Principal" (id, kind, "displayName", "updatedAt") VALUES ('${id(4)}', 'user', 'Alice', now())`);
  await c.query(`INSERT INTO "Grant" (id, "principalId", "scopeId", "environmentId") VALUES ('${id(5)}', '${id(4)}', '${id(3)}', '${id(1)}')`);
  await c.query(`INSERT INTO "User" (id, email, name, roles) VALUES ('${id(6)}', 'r@example.test', 'Reviewer', '{reviewer}')`);
  // The old shapes: a revoke proposal marked 'pending', an approve proposal marked 'not_required',
  // an applied revoke, a rejected proposal, and an access change.
  await c.query(decision(10, "revoke", true, "pending"));
  await c.query(decision(11, "approve", true, "not_required"));
  await c.query(decision(12, "revoke", false, "applied"));
  await c.query(decision(13, "revoke", false, "not_required", `, 'rejected', now()`));
  await c.query(`INSERT INTO "AccessChange" (id, kind, "actorLabel", "principalId", enforcement) VALUES ('${id(20)}', 'revoke_all_keys', 'test', '${id(4)}', 'failed')`);
  for (const m of migrations.filter((m) => m >= "0023")) await c.query(sql(m));
});

afterAll(async () => {
  await c?.end();
  await tdb?.drop();
});

const enforcement = async (table: string, n: number) => (await c.query<{ e: string }>(`SELECT enforcement::text AS e FROM "${table}" WHERE id = '${id(n)}'`)).rows[0].e;

test("every proposal still waiting becomes 'proposed'; decided, discarded and access-change rows keep their state", async () => {
  expect(await enforcement("Decision", 10)).toBe("proposed");
  expect(await enforcement("Decision", 11)).toBe("proposed");
  expect(await enforcement("Decision", 12)).toBe("applied");
  expect(await enforcement("Decision", 13)).toBe("not_required");
  expect(await enforcement("AccessChange", 20)).toBe("failed");
});

test("the delivery worker's index is back on the new type", async () => {
  const r = await c.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'Decision_verify_due_idx'`);
  expect(r.rows[0]?.indexdef).toMatch(/WHERE .*enforcement = 'applied'/);
});

test("a proposal's two markers can no longer disagree, and an access change is never a proposal", async () => {
  await expect(c.query(decision(14, "revoke", true, "pending"))).rejects.toThrow(/Decision_proposed_state/);
  await expect(c.query(decision(15, "revoke", false, "proposed"))).rejects.toThrow(/Decision_proposed_state/);
  await expect(c.query(`UPDATE "AccessChange" SET enforcement = 'proposed' WHERE id = '${id(20)}'`)).rejects.toThrow(/AccessChange_never_proposed/);
  // Confirming moves both together.
  await c.query(`UPDATE "Decision" SET "awaitingConfirmation" = false, enforcement = 'pending' WHERE id = '${id(10)}'`);
  expect(await enforcement("Decision", 10)).toBe("pending");
});
