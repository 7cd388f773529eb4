import { randomBytes } from "node:crypto";
import net from "node:net";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { applyMigrationsSql } from "@/lib/db/migrate";
import { startEmbeddedDb } from "@/lib/db/embedded";

/**
 * Each test file (and each e2e run) gets a database of its own: on real
 * Postgres (DATABASE_URL's server, else 127.0.0.1:5432) as tollgate_test_<random>,
 * dropped afterwards; on a private embedded server only when no Postgres is reachable.
 */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const base = process.env.TEST_DATABASE_SERVER_URL ?? process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const u = new URL(base);
  u.pathname = "/postgres";
  return u.toString();
}

async function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 5432) });
    s.setTimeout(1000);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
    s.once("timeout", () => (s.destroy(), resolve(false)));
  });
}

/**
 * A port that is free now and that the kernel will not hand out by itself later.
 * A port from listen(0) comes from the ephemeral range, which outgoing connections
 * also draw from: in the minute between picking it and a child process binding it
 * (e2e builds the dashboard in between), a connection's local end can take it and
 * the child dies with EADDRINUSE. So on Linux we pick below the ephemeral range.
 */
const handedOut = new Set<number>();

function ephemeralRange(): [number, number] | null {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    return Number.isInteger(lo) && Number.isInteger(hi) ? [lo, hi] : null;
  } catch {
    return null;
  }
}

function bindable(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(null));
    srv.listen(port, "127.0.0.1", () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
}

export async function freePort(): Promise<number> {
  const range = ephemeralRange();
  const lo = 10_000;
  const hi = range && range[0] - 1 > lo + 1000 ? range[0] - 1 : null;
  for (let attempt = 0; hi !== null && attempt < 100; attempt++) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (handedOut.has(port)) continue;
    if ((await bindable(port)) !== null) return handedOut.add(port), port;
  }
  const port = await bindable(0);
  if (port === null) throw new Error("no free port on 127.0.0.1");
  return port;
}

export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const server = serverUrl();
  let result: TestDatabase;
  if (await reachable(server)) {
    const name = `tollgate_test_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const u = new URL(server);
    u.pathname = `/${name}`;
    result = {
      url: u.toString(),
      async drop() {
        const c = new pg.Client({ connectionString: server });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await c.end();
      },
    };
  } else {
    const dir = await mkdtemp(path.join(os.tmpdir(), "tollgate-test-"));
    const embedded = await startEmbeddedDb({ dataDir: dir, port: await freePort() });
    result = {
      url: embedded.url,
      async drop() {
        await embedded.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  if (opts.migrate !== false) await applyMigrationsSql(result.url);
  return result;
}

/**
 * A runtime role for one test database (lib/db/runtime-role.ts): a LOGIN role
 * of its own (roles are cluster-wide, so the name is random), provisioned like
 * `npm start` does on a real Postgres. Real Postgres only: the embedded server
 * runs one shared superuser session and cannot keep roles apart.
 */
export async function createRuntimeRole(tdb: TestDatabase): Promise<{ role: string; url: string; drop(): Promise<void> }> {
  const { provisionRuntimeRole } = await import("@/lib/db/runtime-role");
  const role = `tollgate_rt_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`CREATE ROLE "${role}" LOGIN`);
  await admin.end();
  await provisionRuntimeRole(tdb.url, role);
  const u = new URL(tdb.url);
  u.username = role;
  u.password = "";
  return {
    role,
    url: u.toString(),
    async drop() {
      // Privileges first (in the test database, if it still exists), then the role.
      const c = new pg.Client({ connectionString: tdb.url });
      await c.connect().then(
        async () => {
          await c.query(`DROP OWNED BY "${role}"`).catch(() => undefined);
          await c.end();
        },
        () => undefined,
      );
      const a = new pg.Client({ connectionString: serverUrl() });
      await a.connect();
      await a.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
      await a.end();
    },
  };
}
