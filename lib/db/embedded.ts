import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { fixQueryQueue } from "./embedded-queue";

/**
 * The embedded default database: PGlite (Postgres compiled to WebAssembly)
 * served over the Postgres wire protocol, so Prisma, pg and psql connect to it
 * like any Postgres. Used by `npm start` when no DATABASE_URL is configured,
 * and by tests only where no real Postgres is reachable.
 */
export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedDb(opts: { dataDir: string; port: number; host?: string; maxConnections?: number }): Promise<EmbeddedDb> {
  const host = opts.host ?? "127.0.0.1";
  const pg = new PGlite(opts.dataDir);
  await pg.waitReady;
  const server = new PGLiteSocketServer({ db: pg, port: opts.port, host, maxConnections: opts.maxConnections ?? 20 });
  fixQueryQueue(server);
  await server.start();
  return {
    url: `postgresql://postgres:postgres@${host}:${opts.port}/postgres`,
    async stop() {
      await server.stop();
      await pg.close();
    },
  };
}
