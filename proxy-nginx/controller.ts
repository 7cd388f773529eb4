import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import pino, { type Logger } from "pino";
import { z } from "zod";
import { createAdminServer } from "../proxy/admin";
import { parseConfig, type ProxyConfig } from "../proxy/config";
import { Core, NotReady, type MutationResult } from "../proxy/core";
import { Metrics } from "../proxy/metrics";
import type { Op, SnapshotBody } from "../proxy/schemas";
import type { EnforcementState } from "../proxy/state";
import type { SnapshotDiff } from "../proxy/state-diff";
import { loadPersistedState, startSyncHoldingState } from "../proxy/sync";
import { UsageAggregator } from "../proxy/usage";
import { NginxMirror, NginxUnavailable } from "./mirror";

// The nginx data plane's controller: the Node proxy's admin API, state,
// persistence (PROXY_STATE_FILE journal + snapshot), dashboard pull and usage
// flush, with nginx (lua/tollgate.lua) deciding requests instead of Node. A
// change is acknowledged only once it is on disk AND in nginx's shared dicts,
// so an acknowledged revoke is enforced by every worker from the next request.

/** Core whose acknowledgements wait for nginx, and which is ready only when nginx holds its revision. */
class NginxCore extends Core {
  mirror!: NginxMirror;

  override get ready(): boolean {
    return super.ready && this.mirror?.revision === this.revision;
  }

  /** A revoke reaches nginx's dicts while the journal is still being fsynced (it only restricts access). */
  protected override removedEarly(removals: Op[]): void {
    this.mirror.removeNow(removals, this.revision + 1).catch(() => undefined); // the ops push after the fsync applies them anyway
  }

  override async mutate(key: string, hash: string, ops: Op[], ifRevision?: number): Promise<MutationResult> {
    const r = await super.mutate(key, hash, ops, ifRevision);
    if (r.applied) this.mirror.record(r.revision, ops);
    await this.mirrored();
    return r;
  }

  protected override diffApplied(revision: number, ops: Op[]): void {
    this.mirror.record(revision, ops);
  }

  override async replaceByDiff(key: string, hash: string, diff: SnapshotDiff, ifRevision?: number): Promise<MutationResult> {
    const r = await super.replaceByDiff(key, hash, diff, ifRevision);
    await this.mirrored();
    return r;
  }

  override async replace(key: string, hash: string, body: SnapshotBody | EnforcementState, recorded?: Op[][], ifRevision?: number): Promise<MutationResult> {
    const r = await super.replace(key, hash, body, recorded, ifRevision);
    await this.mirrored();
    return r;
  }

  /** Not acknowledged (503, the dashboard retries with the same key) while nginx does not hold it. */
  private async mirrored(): Promise<void> {
    try {
      await this.mirror.sync();
    } catch (e) {
      if (e instanceof NginxUnavailable) throw new NotReady(e.message);
      throw e;
    }
  }
}

const extra = z.object({
  NGINX_CONTROL_SOCKET: z.string({ error: "is required (the control socket of the generated nginx config)" }).min(1),
  NGINX_SYNC_CHECK_MS: z.coerce.number().int().min(20).default(200),
});

export interface RunningController {
  adminPort: number;
  core: Core;
  close(): Promise<void>;
}

export async function startController(config: ProxyConfig, socket: string, checkMs: number, logger?: Logger): Promise<RunningController> {
  const log = logger ?? pino({ level: config.PROXY_LOG_LEVEL, base: { service: "tollgate-nginx-controller", proxy: config.PROXY_NAME } });
  const metrics = new Metrics();
  const core = new NginxCore(config.PROXY_ENVIRONMENT, config.PROXY_STATE_FILE, config.PROXY_COMPACT_EVERY, log);
  core.mirror = new NginxMirror(socket, core, log);
  await loadPersistedState(core, config, log);
  const usage = new UsageAggregator(
    { proxyName: config.PROXY_NAME, environment: config.PROXY_ENVIRONMENT, dashboardUrl: config.DASHBOARD_URL, dashboardToken: config.DASHBOARD_TOKEN, flushMs: config.PROXY_USAGE_FLUSH_MS, maxEntries: config.PROXY_USAGE_MAX_ENTRIES, maxShadow: config.PROXY_SHADOW_MAX_ENTRIES },
    metrics,
    log,
  );
  const admin = createAdminServer({ config, core, metrics, log, gauges: () => ({ inFlight: 0, pendingUsage: usage.pendingEntries() }) });
  const adminPort = await new Promise<number>((resolve, reject) => {
    admin.once("error", reject);
    admin.listen(config.PROXY_ADMIN_LISTEN.port, config.PROXY_ADMIN_LISTEN.host, () => resolve((admin.address() as AddressInfo).port));
  });
  usage.start();

  // nginx restarted (its dicts are empty: every request 503) or fell behind: push again.
  let lastError = "";
  const check = setInterval(() => {
    core.mirror.sync().then(
      () => (lastError = ""),
      (e: unknown) => {
        const msg = (e as Error).message;
        if (msg !== lastError) log.warn({ err: msg }, "nginx not in sync");
        lastError = msg;
      },
    );
  }, checkMs);
  // Usage the Lua module counted, fed into the same aggregator (and flush) as the Node proxy's.
  const drain = setInterval(() => {
    core.mirror.drainUsage().then((counts) => {
      const now = Date.now();
      for (const [k, n] of Object.entries(counts)) {
        if (!Number.isSafeInteger(n) || n < 1) continue; // the module counts in whole requests; anything else is not a count
        const f = k.split("\t");
        if (f[0] === "r") usage.recordRequest(f[1] || null, f[2] || null, f[3], now, n);
        else if (f[0] === "a") usage.recordAllowed(f[1], null, now, n);
        else if (f[0] === "s") usage.recordShadow(f[1] || null, f[2], f[3], f[4], now, n);
      }
    }, () => undefined);
  }, Math.min(1_000, config.PROXY_USAGE_FLUSH_MS));

  const stopSync = startSyncHoldingState(core, config, log);
  log.info({ adminPort, revision: core.revision }, "nginx controller listening");

  return {
    adminPort,
    core,
    close: async () => {
      stopSync();
      clearInterval(check);
      clearInterval(drain);
      await new Promise<void>((r) => {
        admin.close(() => r());
        admin.closeAllConnections();
      });
      usage.stop();
      await Promise.race([usage.flush(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      await core.close();
      await core.mirror.close();
    },
  };
}

async function main(): Promise<void> {
  let config: ProxyConfig;
  let more: z.infer<typeof extra>;
  try {
    config = parseConfig(process.env);
    const parsed = extra.safeParse(process.env);
    if (!parsed.success) throw new Error(`Invalid controller configuration:\n  ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n  ")}`);
    more = parsed.data;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
  const running = await startController(config, more.NGINX_CONTROL_SOCKET, more.NGINX_SYNC_CHECK_MS);
  let signals = 0;
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.on(sig, () => {
      if (++signals > 1) process.exit(1);
      void running.close().then(() => process.exit(0));
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
