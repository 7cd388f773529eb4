import type { PGlite } from "@electric-sql/pglite";
import type { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/**
 * Workaround for two open pglite-socket bugs (electric-sql/pglite#1046, PR #977),
 * both seen here: all connections share one PGlite session, and its query queue
 * serializes single protocol *messages*, pinning a connection only while a SQL
 * transaction is open.
 *  A. An extended-protocol batch (Parse/Bind/Describe/Execute … Sync) is not a
 *     transaction, so two connections' batches interleave when a message arrives
 *     in a later TCP chunk: B's Parse replaces A's unnamed statement and A binds to
 *     it ("bind message supplies 2 parameters…", or silently wrong rows).
 *  B. A message that throws inside the queue returns without clearing
 *     `processing`, so the queue never runs again (every connection hangs).
 * We replace the instance's queue loop: a connection that sent an
 * extended-protocol message keeps the session until its Sync, and a throw fails
 * that message only. Remove when pglite-socket ships the fix.
 */

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve(bytes: number): void;
  reject(err: unknown): void;
  onData(data: Uint8Array): void;
}

interface QueueInternals {
  db: PGlite;
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

// Frontend message types of the extended query protocol that leave state behind until Sync.
const EXTENDED = new Set(["P", "B", "D", "E", "C", "H"].map((c) => c.charCodeAt(0)));
const SYNC = "S".charCodeAt(0);
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);

/** Names this patch in every failure, so an upgrade that breaks it says which workaround to revisit. */
export const QUEUE_PATCH = "lib/db/embedded-queue.ts (pglite-socket queue patch, electric-sql/pglite#1046)";

/**
 * The private members the patch relies on, checked before it is installed: a
 * pglite-socket release that renames them must stop start-up here, loudly,
 * rather than leave the stock (buggy) queue silently in place.
 */
export function queueInternals(server: PGLiteSocketServer): QueueInternals {
  const q = (server as unknown as { queryQueue?: Partial<QueueInternals> }).queryQueue;
  const missing = !q
    ? ["queryQueue"]
    : (
        [
          ["queue", Array.isArray(q.queue)],
          ["processing", typeof q.processing === "boolean"],
          ["lastHandlerId", "lastHandlerId" in q],
          ["processQueue", typeof q.processQueue === "function"],
          ["clearQueueForHandler", typeof q.clearQueueForHandler === "function"],
          ["db.runExclusive", typeof q.db?.runExclusive === "function"],
          ["db.execProtocolRawStream", typeof q.db?.execProtocolRawStream === "function"],
          ["db.isInTransaction", typeof q.db?.isInTransaction === "function"],
        ] as const
      )
        .filter(([, ok]) => !ok)
        .map(([name]) => `queryQueue.${name}`);
  if (missing.length) throw new Error(`${QUEUE_PATCH}: this pglite-socket no longer has ${missing.join(", ")}; check whether the upstream fix shipped and drop or adapt the patch`);
  return q as QueueInternals;
}

export function fixQueryQueue(server: PGLiteSocketServer): void {
  const q = queueInternals(server);
  /** The connection whose extended-protocol batch is open (until its Sync). */
  let batchOwner: number | null = null;

  q.processQueue = async function processQueue() {
    if (q.processing) return;
    q.processing = true;
    try {
      while (q.queue.length > 0) {
        const owner = batchOwner ?? (q.db.isInTransaction() ? q.lastHandlerId : null);
        let item: QueuedMessage | undefined;
        if (owner !== null) {
          const at = q.queue.findIndex((m) => m.handlerId === owner);
          if (at === -1) break; // wait for the owner's next message; others stay queued
          item = q.queue.splice(at, 1)[0];
        } else item = q.queue.shift();
        if (!item) break;
        const type = item.message[0];
        let bytes = 0;
        try {
          await q.db.runExclusive(() =>
            q.db.execProtocolRawStream(item.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
          q.lastHandlerId = item.handlerId;
          if (EXTENDED.has(type)) batchOwner = item.handlerId;
          else if (type === SYNC && batchOwner === item.handlerId) batchOwner = null;
          item.resolve(bytes);
        } catch (err) {
          item.reject(err);
        }
      }
    } finally {
      q.processing = false;
    }
  };

  const clearQueue = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = (handlerId: number) => {
    clearQueue(handlerId);
    if (batchOwner === handlerId) {
      // The connection went away mid-batch: end its implicit transaction and
      // unnamed statement with a Sync of our own, then let the others in.
      batchOwner = null;
      void q.db
        .runExclusive(() => q.db.execProtocolRawStream(SYNC_MESSAGE, { onRawData: () => {} }))
        .catch(() => {})
        .finally(() => void q.processQueue());
    }
  };
}
