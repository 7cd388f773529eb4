import { Worker } from "node:worker_threads";
import { ChainStitcher, type ChainVerification } from "./chain-range";
import { openChainSnapshot } from "./chain-read";
import type { WorkerInit, WorkerJob, WorkerMessage } from "./chain-worker";

/**
 * The chain walk spread over worker threads, for `npm run audit:verify` on a
 * large log: each worker reads ranges of the log over its own connection (one
 * shared snapshot) and checks them; this thread only hands out ranges in seq
 * order and joins the summaries (ChainStitcher). Hashing and decoding a
 * million events is several seconds of CPU; this way it uses every core, and
 * Postgres produces ranges on several backends at once.
 *
 * Returns null on the embedded server (one session for all connections: a
 * second reader would wait forever): the caller walks in-process instead.
 */
// Run from TypeScript (tsx) the worker is chain-worker.ts; prebundled (scripts/audit-verify.mjs) it sits beside the bundle as chain-worker.mjs.
const FROM_TS = import.meta.url.endsWith(".ts");
const WORKER_FILE = new URL(FROM_TS ? "./chain-worker.ts" : "./chain-worker.mjs", import.meta.url);

function startWorker(init: WorkerInit): Worker {
  if (!FROM_TS) return new Worker(WORKER_FILE, { workerData: init });
  // Node 20 does not carry tsx's module hooks into worker threads: a small CommonJS stub loads the worker through tsx.
  const stub = `import("tsx/esm/api").then((tsx) => tsx.tsImport(${JSON.stringify(WORKER_FILE.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(stub, { eval: true, workerData: init });
}

export async function verifyChainInWorkers(
  url: string,
  opts: { workers: number; rowsPerRange?: number; watch?: Set<bigint>; found?: Map<bigint, string> },
): Promise<ChainVerification | null> {
  const snap = await openChainSnapshot(url, opts.rowsPerRange);
  const workers: Worker[] = [];
  try {
    if (snap.embedded) return null;
    const snapshotId = await snap.exportId();
    const init: WorkerInit = { url, snapshotId, watch: [...(opts.watch ?? [])].map(String) };
    const maxWatched = opts.watch?.size ? [...opts.watch].reduce((a, b) => (b > a ? b : a)) : -1n;
    const count = Math.max(1, Math.min(opts.workers, snap.ranges));
    const stitcher = new ChainStitcher(opts.found);
    const results = new Map<number, WorkerMessage & { i: number }>();
    let next = 0; // next range to hand out
    let joined = 0; // ranges stitched so far
    let stop = false;

    return await new Promise<ChainVerification>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      const give = (w: Worker) => {
        // Once broken, only a watched seq further on is worth reading.
        if (stop || next >= snap.ranges) return w.postMessage(null satisfies WorkerJob);
        const i = next++;
        w.postMessage({ i, sql: snap.rangeSql(i) } satisfies WorkerJob);
      };
      const drain = () => {
        while (results.has(joined)) {
          const r = results.get(joined)!;
          results.delete(joined);
          if ("error" in r) return fail(new Error(`audit chain verification: ${r.error}`));
          if ("summary" in r) stitcher.add(r.summary);
          const end = snap.rangeEnd(joined);
          joined++;
          if (stitcher.isBroken && (end === null || maxWatched <= end)) stop = true;
        }
        if (!settled && (joined === snap.ranges || (stop && joined === next))) {
          settled = true;
          resolve(stitcher.result());
        }
      };
      for (let k = 0; k < count; k++) {
        const w = startWorker(init);
        workers.push(w);
        w.on("message", (m: WorkerMessage) => {
          if ("ready" in m) return give(w);
          if ("i" in m && m.i !== undefined) {
            results.set(m.i, m as WorkerMessage & { i: number });
            give(w);
            return drain();
          }
          fail(new Error(`audit chain verification: ${"error" in m ? m.error : "unexpected worker message"}`));
        });
        w.on("error", fail);
        w.on("exit", (code) => {
          if (code !== 0) fail(new Error(`audit chain verification worker exited with code ${code}`));
        });
      }
    });
  } finally {
    await Promise.allSettled(workers.map((w) => w.terminate()));
    await snap.close();
  }
}
