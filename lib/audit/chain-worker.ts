import { parentPort, workerData } from "node:worker_threads";
import { binaryBatch, copyOut, joinChainSnapshot } from "./chain-read";
import { verifyRange } from "./chain-range";

/**
 * A verification worker thread (see chain-parallel.ts): joins the snapshot
 * with a connection of its own, then for each range it is sent reads the
 * events with a binary COPY, checks them (verifyRange) and posts back the
 * small summary. Relative imports only: it is loaded by tsx, or prebundled.
 */
export interface WorkerInit {
  url: string;
  snapshotId: string;
  watch: string[];
}
export type WorkerJob = { i: number; sql: string } | null;
export type WorkerMessage = { ready: true } | { i: number; summary: ReturnType<typeof verifyRange> } | { error: string; i?: number };

const port = parentPort!;
const init = workerData as WorkerInit;
const watch = init.watch.length ? new Set(init.watch) : null;

joinChainSnapshot(init.url, init.snapshotId).then(
  (client) => {
    port.on("message", (job: WorkerJob) => {
      if (job === null) {
        void client
          .query("ROLLBACK")
          .catch(() => undefined)
          .then(() => client.end())
          .finally(() => port.close());
        return;
      }
      copyOut(client, job.sql).then(
        (buf) => port.postMessage({ i: job.i, summary: verifyRange([binaryBatch(buf)], watch) } satisfies WorkerMessage),
        (e: Error) => port.postMessage({ i: job.i, error: e.message } satisfies WorkerMessage),
      );
    });
    port.postMessage({ ready: true } satisfies WorkerMessage);
  },
  (e: Error) => {
    port.postMessage({ error: `cannot join the verification snapshot: ${e.message}` } satisfies WorkerMessage);
    port.close();
  },
);
