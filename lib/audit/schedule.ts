import type { PrismaClient } from "@/lib/db";
import { checkpointDirFromEnv, createCheckpoint, republishMissing } from "./publish";
import { auditSigner } from "./signing";

/**
 * Every TOLLGATE_AUDIT_CHECKPOINT_INTERVAL_MS (default one minute), sign and
 * publish the chain head if it moved since the last checkpoint. In-process
 * rather than a pg-boss cron: it must not depend on the queue, and several
 * instances doing it is harmless (an unmoved head is skipped; a duplicate
 * checkpoint of the same head is still a true statement).
 */
export function startCheckpointSchedule(client: PrismaClient, log: (msg: string, data?: unknown) => void): NodeJS.Timeout | null {
  let signerOk = true;
  try {
    if (!auditSigner()) {
      log("WARNING: no audit signing key configured (TOLLGATE_AUDIT_SIGNING_KEY_FILE): no signed checkpoints, so truncating the audit log cannot be detected");
      return null;
    }
  } catch (e) {
    signerOk = false;
    log(`WARNING: the audit signing key cannot be loaded, no checkpoints will be made: ${(e as Error).message}`);
  }
  if (!signerOk) return null;
  const every = Number(process.env.TOLLGATE_AUDIT_CHECKPOINT_INTERVAL_MS ?? 60_000);
  const interval = Number.isFinite(every) && every >= 1_000 ? every : 60_000;
  let running = false;
  let first = true;
  const dir = checkpointDirFromEnv();
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      // A previous process may have died between a checkpoint's commit and its fsync.
      if (first && dir) await republishMissing(client, auditSigner()!, dir, (m) => log(m));
      first = false;
      await createCheckpoint(client, { reason: "interval", log: (m) => log(m) });
    } catch (e) {
      log("audit checkpoint failed", (e as Error).message);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), interval);
  timer.unref();
  void tick();
  return timer;
}
