// The delivery worker as a process of its own (`tsx lib/enforcement/run-worker.ts`):
// for deployments that run it beside the dashboard instead of inside it
// (instrumentation.ts), and for the crash tests, which SIGKILL it mid-batch.
import { z } from "zod";
import { db } from "@/lib/db";
import { env } from "@/lib/config/env";
import { startDeliveryWorker } from "./worker";

const opts = z
  .object({
    WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
    WORKER_POLL_MS: z.coerce.number().int().min(50).default(3000),
    WORKER_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  })
  .parse(process.env);

const worker = await startDeliveryWorker({
  client: db(),
  listenUrl: env().DATABASE_URL,
  batchSize: opts.WORKER_BATCH_SIZE,
  pollMs: opts.WORKER_POLL_MS,
  leaseMs: opts.WORKER_LEASE_MS,
  log: (msg, data) => process.stderr.write(`${msg} ${data ? JSON.stringify(data) : ""}\n`),
});
process.stdout.write("delivery worker started\n");
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => void worker.stop().then(() => process.exit(0)));
}
