/**
 * The long-work lane (issue 14). A campaign launch holds one pooled connection
 * for its whole transaction (seconds on a large inventory). Ten launches at
 * once used to take every connection of the dashboard's pool, so decisions
 * could not start a transaction at all (Prisma P2028). Long transactions now
 * queue here for a few slots per process; the rest of the pool stays free for
 * the short transactions people wait on (decisions, export records).
 *
 * Two slots: on the 2-core machines we measured on, a third concurrent launch
 * does not finish the batch sooner (Postgres is CPU-bound on the snapshot
 * INSERT ... SELECT), it only takes a connection away (docs/BENCHMARKS.md,
 * "Contention"). A queued launch waits in order rather than failing.
 */
export const LONG_WORK_SLOTS = 2;

interface Lane {
  active: number;
  waiting: (() => void)[];
}

const globalForLane = globalThis as unknown as { __tollgateLongWork?: Lane };
const lane = (globalForLane.__tollgateLongWork ??= { active: 0, waiting: [] });

export async function withLongWorkSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (lane.active >= LONG_WORK_SLOTS) await new Promise<void>((resolve) => lane.waiting.push(resolve));
  else lane.active++;
  try {
    return await fn();
  } finally {
    // Hand the slot straight to the next waiter (active stays the same), or free it.
    const next = lane.waiting.shift();
    if (next) next();
    else lane.active--;
  }
}

/** For the load test's report: how many long jobs are running and queued right now. */
export const longWorkState = () => ({ active: lane.active, waiting: lane.waiting.length });
