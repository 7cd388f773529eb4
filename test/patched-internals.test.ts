import http from "node:http";
import net from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fixQueryQueue, QUEUE_PATCH, queueInternals } from "@/lib/db/embedded-queue";
import { pgConfigFromUrl } from "@/lib/config/env";
import { CATALOG_TYPES_PATCH, MigratePg, readCatalogTypesAsText, WHOLE_SCRIPTS_PATCH, wholeScripts } from "@/lib/db/migrate-adapter";
import { createTestDatabase, freePort, type TestDatabase } from "./support/db";

// We patch three libraries' internals (and read one Node internal). Each test
// here names its patch: when an upgrade changes the behaviour a patch relies
// on, or fixes the bug it works around, the failure says which workaround to
// revisit and where its upstream issue is.

describe(QUEUE_PATCH, () => {
  test("the private queue members the patch replaces are still there, and queries run through the patched loop", async () => {
    const db = new PGlite();
    await db.waitReady;
    const port = await freePort();
    const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1" });
    try {
      const q = queueInternals(server); // throws naming the patch if a member is gone
      fixQueryQueue(server);
      let runs = 0;
      const patched = q.processQueue;
      q.processQueue = function () {
        runs++;
        return patched.call(this);
      };
      await server.start();
      const c = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
      await c.connect();
      expect((await c.query("SELECT $1::int AS v", [7])).rows[0].v).toBe(7);
      await c.end();
      expect(runs, `${QUEUE_PATCH}: pglite-socket no longer calls queryQueue.processQueue, so the patch is not in effect`).toBeGreaterThan(0);
    } finally {
      await server.stop();
      await db.close();
    }
  }, 180_000); // starting PGlite (WebAssembly) takes a minute on a loaded 2-core machine

  test("a pglite-socket without the members refuses to start instead of running unpatched", () => {
    expect(() => queueInternals({} as PGLiteSocketServer)).toThrow(QUEUE_PATCH);
  });
});

describe("lib/db/migrate-adapter.ts (prisma migrate through @prisma/adapter-pg 6.19)", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => database?.drop());

  test(`${CATALOG_TYPES_PATCH}: still needed, and it makes name/"char" columns readable`, async () => {
    const adapter = await new PrismaPg(pgConfigFromUrl(database.url)).connect();
    const query = { sql: `SELECT 'x'::name AS n, 'y'::"char" AS c`, args: [], argTypes: [] };
    try {
      const unpatched = await adapter.queryRaw(query).then(
        () => "read",
        (e: unknown) => String(e),
      );
      expect(unpatched, `${CATALOG_TYPES_PATCH}: the adapter now reads name columns by itself (prisma/orm#27403 fixed?): drop the patch`).not.toBe("read");
      readCatalogTypesAsText();
      const r = await adapter.queryRaw(query);
      expect(r.rows).toEqual([["x", "y"]]);
    } finally {
      await adapter.dispose();
    }
  });

  test(`${WHOLE_SCRIPTS_PATCH}: still needed, and a function body survives`, async () => {
    const script = `CREATE FUNCTION patch_probe() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql; SELECT patch_probe();`;
    const stock = await new PrismaPg(pgConfigFromUrl(database.url)).connect();
    try {
      const outcome = await stock.executeScript(script).then(
        () => "ran",
        (e: unknown) => String(e),
      );
      expect(outcome, `${WHOLE_SCRIPTS_PATCH}: the stock executeScript now runs function bodies: drop the patch`).not.toBe("ran");
    } finally {
      await stock.dispose();
    }
    const patched = wholeScripts(await new PrismaPg(pgConfigFromUrl(database.url)).connect());
    try {
      await patched.executeScript(script);
      const r = await patched.queryRaw({ sql: "SELECT patch_probe() AS v", args: [], argTypes: [] });
      expect(r.rows).toEqual([[1]]);
    } finally {
      await patched.dispose();
    }
  });

  test("MigratePg.connectToShadowDb (shadow database dropped only after its pool closed): still needed, and it leaves nothing behind", async () => {
    const shadows = async () => {
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      const { rows } = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'prisma%shadow%'`);
      await c.end();
      return new Set(rows.map((r) => r.datname));
    };
    const before = await shadows();
    const stock = await new PrismaPg(pgConfigFromUrl(database.url)).connectToShadowDb();
    await stock.queryRaw({ sql: "SELECT 1", args: [], argTypes: [] });
    const stockDispose = await stock.dispose().then(
      () => "dropped",
      (e: unknown) => String(e),
    );
    const leftover = [...(await shadows())].filter((d) => !before.has(d));
    // Clean up what the stock adapter left behind (its pool first) before judging it.
    await stock.underlyingDriver().end().catch(() => {});
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    for (const d of leftover) await admin.query(`DROP DATABASE IF EXISTS "${d}"`);
    await admin.end();
    expect(stockDispose === "dropped" && leftover.length === 0, "MigratePg.connectToShadowDb patch: the stock shadow database is now dropped cleanly: drop the patch").toBe(false);

    const shadow = await new MigratePg(pgConfigFromUrl(database.url)).connectToShadowDb();
    await shadow.queryRaw({ sql: "SELECT 1", args: [], argTypes: [] });
    await shadow.dispose();
    expect([...(await shadows())].filter((d) => !before.has(d))).toEqual([]);
  });
});

describe("proxy/dataplane.ts clientError handler reads socket._httpMessage (as Node's own default does, nodejs/node#44818)", () => {
  test("while a response is in flight the socket's _httpMessage is that response, and it is cleared once the response is done", async () => {
    const seen: { during?: unknown; after?: unknown } = {};
    let socket: net.Socket | undefined;
    const server = http.createServer((req, res) => {
      socket = req.socket;
      seen.during = (req.socket as unknown as { _httpMessage?: unknown })._httpMessage === res;
      res.on("finish", () => setImmediate(() => (seen.after = (socket as unknown as { _httpMessage?: unknown })._httpMessage ?? null)));
      res.end("ok");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(await res.text()).toBe("ok");
      await expect.poll(() => "after" in seen).toBe(true);
      expect(seen.during, "socket._httpMessage is no longer the in-flight response: proxy/dataplane.ts's clientError handler would answer 400 into a response").toBe(true);
      expect(seen.after, "socket._httpMessage stays set after the response: proxy/dataplane.ts's clientError handler would never answer 400").toBeNull();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
