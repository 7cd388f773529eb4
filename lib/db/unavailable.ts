/**
 * Whether an error means "the database cannot be reached right now" (down,
 * restarting, refusing connections, the connection dropped), as opposed to a
 * bug or bad input. Users then get "database unavailable, try again" instead of
 * "Something went wrong", and nobody sees Prisma's raw text (which names the
 * database host).
 *
 * Shapes recognised (each seen from this stack): Prisma's P1001/P1002/P1017
 * and initialisation errors; the pg driver adapter's DatabaseNotReachable /
 * ConnectionClosed / SocketTimeout kinds and Postgres class 08 and 57P0x codes
 * (admin shutdown, cannot connect now); node-postgres / socket errors used by
 * the report pool and pg-boss.
 */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1017"]);
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "DatabaseDoesNotExist"]);
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
const POSTGRES_DOWN = /^(08\d{3}|57P0[1-3])$/;

export function isDatabaseUnavailable(e: unknown, depth = 0): boolean {
  if (!e || typeof e !== "object" || depth > 4) return false;
  const err = e as { name?: unknown; code?: unknown; errorCode?: unknown; message?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown; code?: unknown } } }; cause?: unknown };
  if (err.name === "PrismaClientInitializationError") return true;
  for (const code of [err.code, err.errorCode]) {
    if (typeof code !== "string") continue;
    if (PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || POSTGRES_DOWN.test(code)) return true;
  }
  const adapter = err.meta?.driverAdapterError?.cause;
  if (adapter) {
    if (typeof adapter.kind === "string" && ADAPTER_KINDS.has(adapter.kind)) return true;
    if (typeof adapter.code === "string" && POSTGRES_DOWN.test(adapter.code)) return true;
  }
  if (typeof err.message === "string" && /Connection terminated unexpectedly|Can't reach database server/.test(err.message)) return true;
  return isDatabaseUnavailable(err.cause, depth + 1);
}

export const DATABASE_UNAVAILABLE_MESSAGE = "The database is unavailable right now, so nothing was changed. Try again in a moment.";
