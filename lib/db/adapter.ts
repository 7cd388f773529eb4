import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";

/**
 * Workaround for a connection leak in Prisma 6.19 with @prisma/adapter-pg (seen in
 * lib/analysis/recovery.test.ts, issue 14): when a transaction's connection dies
 * (database restarted, backend terminated), Prisma's transaction manager sends
 * ROLLBACK, that throws, and the adapter's rollback() — the only place the pg client
 * is released — is never called. The pool slot is lost for good: after a blip that
 * killed N transactions the pool has N fewer connections, and once all are gone every
 * transaction fails to start (P2028) until the process restarts.
 * Here, a failed COMMIT/ROLLBACK releases the client with the error, so pg destroys
 * it and the pool opens a fresh one. Remove when the adapter releases on failure itself.
 */
interface Queryable {
  executeRaw(q: { sql: string; args: unknown[]; argTypes: unknown[] }): Promise<number>;
}
interface PgTransactionLike extends Queryable {
  client: pg.PoolClient;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}
interface AdapterLike {
  startTransaction(isolationLevel?: string): Promise<PgTransactionLike>;
}

export class ResilientPrismaPg extends PrismaPg {
  /** The pg pool of the connected adapter: bulk work (COPY) needs a connection of its own. */
  pool: pg.Pool | null = null;

  async connect(): ReturnType<PrismaPg["connect"]> {
    const adapter = await super.connect();
    this.pool = (adapter as unknown as { underlyingDriver(): pg.Pool }).underlyingDriver();
    const a = adapter as unknown as AdapterLike;
    const start = a.startTransaction.bind(a);
    a.startTransaction = async (isolationLevel) => releaseOnFailedEnd(await start(isolationLevel));
    return adapter;
  }
}

function releaseOnFailedEnd(tx: PgTransactionLike): PgTransactionLike {
  let released = false;
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    tx.client.release(err);
  };
  const exec = tx.executeRaw.bind(tx);
  const commit = tx.commit.bind(tx);
  const rollback = tx.rollback.bind(tx);
  tx.executeRaw = async (q) => {
    try {
      return await exec(q);
    } catch (e) {
      if (q.sql === "COMMIT" || q.sql === "ROLLBACK") release(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  };
  // The stock commit()/rollback() release too: never twice (pg throws on a double release).
  tx.commit = async () => (released ? undefined : ((released = true), commit()));
  tx.rollback = async () => (released ? undefined : ((released = true), rollback()));
  return tx;
}
