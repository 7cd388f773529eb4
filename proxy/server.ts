import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import { createAdminServer } from "./admin";
import type { ProxyConfig } from "./config";
import { Core } from "./core";
import { DataPlane } from "./dataplane";
import { boundHeapGrowth } from "./heap";
import { Metrics } from "./metrics";
import { loadPersistedState, startSyncHoldingState } from "./sync";
import { UsageAggregator } from "./usage";

export interface RunningProxy {
  dataPort: number;
  adminPort: number;
  core: Core;
  /** Stops accepting, drains in-flight requests (up to the grace period), flushes usage. */
  close(): Promise<void>;
}

function listen(server: import("node:http").Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startProxy(config: ProxyConfig, logger?: Logger): Promise<RunningProxy> {
  const log = logger ?? pino({ level: config.PROXY_LOG_LEVEL, base: { service: "tollgate-proxy", proxy: config.PROXY_NAME } });
  boundHeapGrowth(); // before any state is loaded; see heap.ts
  const metrics = new Metrics();
  const core = new Core(config.PROXY_ENVIRONMENT, config.PROXY_STATE_FILE, config.PROXY_COMPACT_EVERY, log);
  await loadPersistedState(core, config, log);
  if (!core.ready && !config.PROXY_STATE_FILE) log.warn("PROXY_STATE_FILE is not set: acknowledged state will not survive a restart");

  const usage = new UsageAggregator(
    {
      proxyName: config.PROXY_NAME,
      environment: config.PROXY_ENVIRONMENT,
      dashboardUrl: config.DASHBOARD_URL,
      dashboardToken: config.DASHBOARD_TOKEN,
      flushMs: config.PROXY_USAGE_FLUSH_MS,
      maxEntries: config.PROXY_USAGE_MAX_ENTRIES,
      maxShadow: config.PROXY_SHADOW_MAX_ENTRIES,
      signals: config.PROXY_SIGNALS
        ? { maxCredentials: config.PROXY_SIGNAL_MAX_CREDENTIALS, maxPairs: config.PROXY_SIGNAL_MAX_PAIRS, maxNetworks: config.PROXY_SIGNAL_MAX_NETWORKS }
        : null,
    },
    metrics,
    log,
  );
  const data = new DataPlane({ config, core, metrics, usage, log });
  const admin = createAdminServer({ config, core, metrics, log, gauges: () => ({ inFlight: data.inFlight, pendingUsage: usage.pendingEntries() }) });
  const dataPort = await listen(data.server, config.PROXY_LISTEN.host, config.PROXY_LISTEN.port);
  const adminPort = await listen(admin, config.PROXY_ADMIN_LISTEN.host, config.PROXY_ADMIN_LISTEN.port);
  usage.start();
  const stopSync = startSyncHoldingState(core, config, log);
  log.info({ dataPort, adminPort, ready: core.ready, revision: core.revision }, "proxy listening");

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      stopSync();
      const drained = Promise.all([
        new Promise<void>((r) => data.server.close(() => r())),
        new Promise<void>((r) => admin.close(() => r())),
      ]);
      // Keep-alive connections become idle as their last response finishes: close them as they do.
      const reap = setInterval(() => {
        data.server.closeIdleConnections();
        admin.closeIdleConnections();
      }, 50);
      data.server.closeIdleConnections();
      admin.closeIdleConnections();
      const grace = new Promise<void>((r) => setTimeout(r, config.PROXY_SHUTDOWN_GRACE_MS).unref());
      await Promise.race([drained, grace]);
      clearInterval(reap);
      data.server.closeAllConnections();
      admin.closeAllConnections();
      usage.stop();
      await Promise.race([usage.flush(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      await core.close();
      await data.closePools();
      log.info("proxy stopped");
    })());
  return { dataPort, adminPort, core, close };
}
