import { createHash, randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { request } from "undici";
import type { ProxyConfig } from "./config";
import type { Core } from "./core";
import { readNdjsonSnapshot } from "./ndjson-snapshot";
import { DamagedState } from "./store";
import { firstIssue, snapshotBody } from "./schemas";

// Pulls the full state from the dashboard (GET /api/v1/proxy/snapshot). Batches
// pushed while the pull is in flight are re-applied on top of the pulled state,
// so a slow pull can never resurrect a grant whose revocation was acknowledged.
// The dashboard streams it as NDJSON (built line by line, like a streamed push);
// a plain JSON answer is still read, from dashboards that only send that.

const pulledSnapshot = snapshotBody.omit({ idempotencyKey: true });
/** A pulled snapshot larger than this is refused (a million grants is ~200 MB). */
const MAX_PULL_BYTES = 2 * 1024 ** 3;

export async function pullSnapshot(core: Core, dashboardUrl: string, token: string, log: Logger): Promise<void> {
  const recording = core.record();
  try {
    const url = new URL("/api/v1/proxy/snapshot", dashboardUrl);
    url.searchParams.set("environment", core.environment);
    const res = await request(url, {
      headers: { authorization: `Bearer ${token}`, accept: "application/x-ndjson, application/json;q=0.5" },
      headersTimeout: 30_000,
      bodyTimeout: 300_000,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`dashboard answered ${res.statusCode}`);
    }
    if (String(res.headers["content-type"] ?? "").startsWith("application/x-ndjson")) {
      const streamed = await readNdjsonSnapshot(res.body, { maxBytes: MAX_PULL_BYTES, hashPrefix: "pull\n", pulled: true }).catch((e: unknown) => {
        res.body.destroy(); // a bad line stops the download too
        throw e;
      });
      if (streamed.environment !== undefined && streamed.environment !== core.environment) {
        throw new Error(`dashboard snapshot is for environment ${streamed.environment}, not ${core.environment}`);
      }
      const result = await core.replace(`pull-${randomUUID()}`, streamed.hash, streamed.state!, recording.ops);
      log.info({ revision: result.revision, dashboardRevision: streamed.revision, streamed: true }, "snapshot pulled from dashboard");
      return;
    }
    const text = await res.body.text();
    const parsed = pulledSnapshot.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`dashboard snapshot invalid: ${firstIssue(parsed.error).message}`);
    const hash = createHash("sha256").update(text).digest("hex");
    const result = await core.replace(`pull-${randomUUID()}`, hash, { idempotencyKey: "pull", ...parsed.data }, recording.ops);
    log.info({ revision: result.revision, dashboardRevision: parsed.data.revision }, "snapshot pulled from dashboard");
  } finally {
    recording.stop();
  }
}

/**
 * Pulls at start (retrying with backoff until it works), then every intervalMs.
 * `onFirstAttempt` hears how the first pull went (null: it succeeded).
 */
export function startSync(core: Core, dashboardUrl: string, token: string, intervalMs: number, log: Logger, onFirstAttempt?: (err: string | null) => void): () => void {
  let stopped = false;
  let first = onFirstAttempt;
  const attempted = (err: string | null) => {
    first?.(err);
    first = undefined;
  };
  let timer: NodeJS.Timeout | null = null;
  let delay = 500;
  const run = async () => {
    if (stopped) return;
    try {
      await pullSnapshot(core, dashboardUrl, token, log);
      attempted(null);
      delay = 500;
      timer = setTimeout(run, intervalMs);
    } catch (e) {
      log.warn({ err: (e as Error).message, retryInMs: delay }, "snapshot pull failed");
      attempted((e as Error).message);
      timer = setTimeout(run, delay);
      delay = Math.min(delay * 2, 30_000);
    }
    timer?.unref();
  };
  void run();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/**
 * Starts the dashboard pull, holding a persisted state back (core.holding) until the first pull answers or
 * PROXY_START_PULL_WAIT_MS passes. Shared so the Node proxy and the nginx controller start alike.
 * Returns a stop that also drops the hold timer.
 */
export function startSyncHoldingState(core: Core, config: ProxyConfig, log: Logger): () => void {
  let holdTimer: NodeJS.Timeout | undefined;
  const release = (why: string) => {
    clearTimeout(holdTimer);
    if (!core.holding) return;
    core.holding = false;
    log.warn({ revision: core.revision, why }, "serving the persisted state without a fresh pull");
  };
  if (core.holding) holdTimer = setTimeout(() => release("the dashboard did not answer in time"), config.PROXY_START_PULL_WAIT_MS).unref();
  const stopSync = config.DASHBOARD_URL
    ? startSync(core, config.DASHBOARD_URL, config.DASHBOARD_TOKEN!, config.PROXY_SYNC_INTERVAL_MS, log, (err) => (err ? release(`first pull failed: ${err}`) : clearTimeout(holdTimer)))
    : () => {};
  return () => {
    stopSync();
    clearTimeout(holdTimer);
  };
}

/** Loads the persisted state at start; shared so the Node proxy and the nginx controller start from disk alike. */
export async function loadPersistedState(core: Core, config: ProxyConfig, log: Logger): Promise<void> {
  try {
    await core.loadPersisted();
  } catch (e) {
    // Never serve from a state file we cannot fully read: stay not-ready until a push or pull.
    const aside = e instanceof DamagedState ? { keptAs: e.aside } : {};
    log.error({ err: (e as Error).message, ...aside }, "persisted state unusable; not ready until a verified snapshot is pulled or pushed");
  }
  // After any restart a fresh pull beats the persisted state (it may lack a
  // change that was enforced in memory but not yet on disk when the process
  // died): hold the loaded state back until the first pull has succeeded or
  // failed, or PROXY_START_PULL_WAIT_MS has passed, whichever comes first (startSyncHoldingState).
  if (core.state && config.DASHBOARD_URL) core.holding = true;
}
