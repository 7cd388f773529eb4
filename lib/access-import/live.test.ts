import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { pgPoolOf } from "@/lib/db";
import { useTestDatabase } from "@/test/support/use-test-database";
import { applyAccessImport } from "./index";
import { loadLiveState, loadLiveStateBeside } from "./live";

// The plan reads the live rows of the other kinds on a second connection while its own transaction runs the
// grants' SQL (plan.ts). That second read must see exactly what the transaction would, and must not wait forever
// for a connection.
const ctx = useTestDatabase(4);
const FILE = [
  `{"kind":"api","id":"live","name":"Live API","baseUrl":"https://live.internal.example"}`,
  `{"kind":"scope","api":"live","name":"live:read","level":"read"}`,
  `{"kind":"principal","id":"svc-live","name":"Live service","type":"service_account"}`,
  `{"kind":"credential","principal":"svc-live","sha256":"${"ab".repeat(32)}","prefix":"lv_1"}`,
  `{"kind":"grant","principal":"svc-live","api":"live","scope":"live:read"}`,
].join("\n");
let sourceId = "";

beforeAll(async () => {
  await ctx.client.environment.create({ data: { name: "production", tier: "production" } });
  await applyAccessImport(systemActor("test"), { format: "ndjson", environment: "production", file: Buffer.from(FILE), filename: "live.ndjson", source: "live" }, { client: ctx.client });
  sourceId = (await ctx.client.accessImportSource.findUniqueOrThrow({ where: { name: "live" } })).id;
});

describe("live rows read beside the plan's transaction", () => {
  it("see the exporting transaction's snapshot, not a change committed after it", async () => {
    const pool = await pgPoolOf(ctx.client);
    const tx = await pool.connect();
    try {
      await tx.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      const { rows } = await tx.query<{ s: string }>("SELECT pg_export_snapshot() AS s");
      // Committed by someone else after the export: the transaction's own reads would not see it.
      await ctx.client.principal.updateMany({ where: { displayName: "Live service" }, data: { displayName: "Renamed meanwhile" } });
      const beside = await loadLiveStateBeside(pool, rows[0].s, sourceId);
      expect(beside).not.toBeNull();
      expect([...beside!.principal.values()].map((m) => (m.row as { displayName: string }).displayName)).toEqual(["Live service"]);
      expect([...beside!.credential.values()].map((m) => (m.row as { prefix: string }).prefix)).toEqual(["lv_1"]);
      // The same rows, field for field, as the transaction-side reader gives at that snapshot's data.
      await ctx.client.principal.updateMany({ where: { displayName: "Renamed meanwhile" }, data: { displayName: "Live service" } });
      expect(JSON.stringify([...beside!.principal.values()])).toBe(JSON.stringify([...(await loadLiveState(ctx.client, sourceId)).principal.values()]));
      await tx.query("COMMIT");
    } finally {
      tx.release();
    }
  });

  it("gives up (null) when the pool has no free connection within a second, and leaves the pool usable", async () => {
    const pool = new pg.Pool({ connectionString: ctx.tdb.url, max: 1 });
    const held = await pool.connect();
    try {
      await held.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      const { rows } = await held.query<{ s: string }>("SELECT pg_export_snapshot() AS s");
      const t0 = performance.now();
      expect(await loadLiveStateBeside(pool, rows[0].s, sourceId)).toBeNull();
      expect(performance.now() - t0).toBeLessThan(5_000);
      await held.query("COMMIT");
    } finally {
      held.release();
    }
    // The abandoned connect() got the connection once it was free and gave it back.
    await expect(pool.query("SELECT 1 AS one")).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await pool.end();
  });
});
