import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, expect, test } from "vitest";
import { startEmbeddedDb } from "@/lib/db/embedded";
import { freePort } from "./support/db";

// `npm start` without DATABASE_URL runs on this embedded server; its data must
// survive a restart, and `prisma migrate deploy` (what npm start runs) must work on it.
let dir: string;
// Each test waits for work to finish (WebAssembly Postgres start-up, `prisma migrate deploy` in a child
// process); none is about speed. The cap only stops a hang, and is wide: on a busy 2-core machine the
// first test alone took over two minutes (issue 14).
const WAIT_MS = 600_000;
afterAll(async () => dir && rm(dir, { recursive: true, force: true }));

function migrateDeploy(url: string): Promise<number> {
  return new Promise((resolve) => {
    const c = spawn("npx", ["prisma", "migrate", "deploy"], { env: { ...process.env, DATABASE_URL: url }, stdio: "ignore" });
    c.on("exit", (code) => resolve(code ?? 1));
  });
}

test("embedded database: prisma migrate deploy works and data survives a restart", async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tollgate-embedded-"));
  const port = await freePort();

  const first = await startEmbeddedDb({ dataDir: dir, port });
  expect(await migrateDeploy(first.url)).toBe(0);
  let c = new pg.Client({ connectionString: first.url });
  await c.connect();
  await c.query(`insert into "Environment"(id, name, tier) values (gen_random_uuid(), 'production', 'production')`);
  await c.end();
  await first.stop();

  const second = await startEmbeddedDb({ dataDir: dir, port });
  c = new pg.Client({ connectionString: second.url });
  await c.connect();
  const { rows } = await c.query(`select name from "Environment"`);
  const applied = await c.query(`select count(*)::int as n from _prisma_migrations where finished_at is not null`);
  await c.end();
  await second.stop();
  expect(rows.map((r) => r.name)).toEqual(["production"]);
  expect(applied.rows[0].n).toBeGreaterThanOrEqual(2);
}, WAIT_MS);

// pglite-socket shares one session between connections; without lib/db/embedded-queue.ts,
// a batch split over TCP chunks interleaved with another connection's and bound to the
// wrong statement ("bind message supplies 2 parameters, but prepared statement "" requires 1").
test("embedded database: concurrent parameterised queries on many connections each get their own answer", async () => {
  const port = await freePort();
  const server = await startEmbeddedDb({ dataDir: "memory://", port });
  const pool = new pg.Pool({ connectionString: server.url, max: 8 });
  const big = "y".repeat(200_000); // spans several TCP chunks
  try {
    const answers = await Promise.allSettled(
      Array.from({ length: 200 }, async (_, i) => {
        const r =
          i % 2
            ? await pool.query("SELECT $1::int AS v, length($2::text) AS n", [i, big])
            : await pool.query("SELECT $1::text AS v", [String(i)]);
        return String(r.rows[0].v) === String(i) && (i % 2 === 0 || r.rows[0].n === big.length);
      }),
    );
    const failures = answers.filter((a) => a.status === "rejected").map((a) => String((a as PromiseRejectedResult).reason));
    expect(failures).toEqual([]);
    expect(answers.every((a) => a.status === "fulfilled" && a.value)).toBe(true);
  } finally {
    await pool.end();
    await server.stop();
  }
}, WAIT_MS);

// CSV exports stream through COPY ... TO STDOUT (lib/reports/copy.ts); the embedded server must
// carry it, also while other connections query.
test("embedded database: a COPY export streams while other connections query", async () => {
  const { copyCsvChunks } = await import("@/lib/reports/copy");
  const port = await freePort();
  const server = await startEmbeddedDb({ dataDir: "memory://", port });
  const pool = new pg.Pool({ connectionString: server.url, max: 4 });
  try {
    const columns = [{ key: "n", header: "N" }, { key: "label", header: "Label" }];
    const query = { text: "SELECT g AS n, 'row,' || g AS label FROM generate_series(1, $1::int) g ORDER BY g", values: [20_000] };
    const counter = { rows: 0 };
    const chunks: Buffer[] = [];
    const others = Promise.all(Array.from({ length: 50 }, (_, i) => pool.query("SELECT $1::int AS v", [i]).then((r) => r.rows[0].v === i)));
    for await (const c of copyCsvChunks(pool, columns, query, counter)) chunks.push(Buffer.from(c));
    const lines = Buffer.concat(chunks).toString().split("\r\n");
    expect(lines[0]).toBe("N,Label");
    expect(lines[1]).toBe('1,"row,1"');
    expect(lines[20_000]).toBe('20000,"row,20000"');
    expect(counter.rows).toBe(20_000);
    expect((await others).every(Boolean)).toBe(true);
  } finally {
    await pool.end();
    await server.stop();
  }
}, WAIT_MS);
