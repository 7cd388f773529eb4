import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { request } from "undici";
import type { Metrics } from "./metrics";
import { SignalTable, type SignalEntry, type SignalLimits } from "./signals";

// Usage aggregated in memory and delivered to the dashboard
// (POST /api/v1/usage). A report, once cut, keeps its id until the dashboard
// accepts it (the dashboard ignores a repeated id), so a lost response never
// double-counts. While reports wait, new traffic aggregates into the next one.
// Memory is bounded: at most one cut batch plus one aggregate, each capped.

interface GrantDay {
  grantId: string;
  day: string;
  count: number;
  lastUsedAt: number;
}
interface Shadow {
  apiId: string | null;
  method: string;
  path: string;
  count: number;
  keys: Set<string>;
  firstSeenAt: number;
  lastSeenAt: number;
}
export interface UsageReport {
  reportId: string;
  proxy: string;
  environment: string;
  grants: { grantId: string; day: string; count: number; lastUsedAt: string }[];
  credentials: { credentialId: string; lastUsedAt: string }[];
  shadow: { apiId: string | null; method: string; path: string; count: number; distinctKeys: number; firstSeenAt: string; lastSeenAt: string }[];
  /** Allowed requests per route and UTC day: the dashboard's per-endpoint traffic (zombie endpoints, issue 17). */
  routes: { routeId: string; day: string; count: number; lastUsedAt: string }[];
  /** Per-credential usage signals (issue 22; proxy/signals.ts); absent when PROXY_SIGNALS is off. */
  signals?: SignalEntry[];
}
interface RouteDay {
  routeId: string;
  day: string;
  count: number;
  lastUsedAt: number;
}

const MAX_KEYS_PER_SHADOW = 1000;
const ENTRIES_PER_REPORT = 5000;
const HEARTBEAT_MS = 60_000;
/** Signal entries carry arrays (endpoints, minutes): fewer per report than plain counts. */
const SIGNALS_PER_REPORT = 2000;
/** While the dashboard is unreachable, signals stop being cut into new reports after this many wait. */
const MAX_QUEUED_SIGNAL_REPORTS = 50;
const iso = (t: number) => new Date(t).toISOString();

export class UsageAggregator {
  /** Today's counts by grant id (the hot path: one lookup by an id string whose hash V8 has cached). */
  private grants = new Map<string, GrantDay>();
  /** Counts of earlier days not yet cut into a report (only across a UTC midnight). */
  private earlier: GrantDay[] = [];
  private credentials = new Map<string, number>();
  /** Today's allowed requests by route id, and earlier days' not yet cut (as for grants). */
  private routes = new Map<string, RouteDay>();
  private earlierRoutes: RouteDay[] = [];
  private shadow = new Map<string, Shadow>();
  private queue: UsageReport[] = [];
  private day = "";
  private dayEnds = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private lastDeliveredAt = 0;
  /** Null when signals are off (PROXY_SIGNALS=false): nothing is recorded or reported. */
  readonly signals: SignalTable | null;

  constructor(
    private readonly opts: {
      proxyName: string;
      environment: string;
      dashboardUrl?: string;
      dashboardToken?: string;
      flushMs: number;
      maxEntries: number;
      maxShadow: number;
      signals?: SignalLimits | null;
    },
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.signals = opts.signals ? new SignalTable(opts.signals) : null;
  }

  /** One allowed request with a credential: its signals (endpoint, network, minute). */
  recordSignal(credentialId: string, grantId: string | null, routeId: string, network: string | null, now: number): void {
    this.signals?.record(credentialId, grantId, routeId, network, now);
  }

  /** Starts a new UTC day when `now` is past the current one; today's counts move to `earlier`. */
  private utcDay(now: number): string {
    if (now >= this.dayEnds) {
      const d = new Date(now);
      this.day = d.toISOString().slice(0, 10);
      this.dayEnds = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      for (const g of this.grants.values()) this.earlier.push(g);
      this.grants = new Map();
      for (const r of this.routes.values()) this.earlierRoutes.push(r);
      this.routes = new Map();
    }
    return this.day;
  }

  /** `n`: requests at once (the nginx controller drains counts, not single requests). */
  recordAllowed(grantId: string | null, credentialId: string | null, now: number, n = 1): void {
    if (grantId) {
      const day = this.utcDay(now);
      const g = this.grants.get(grantId);
      if (g) {
        g.count += n;
        g.lastUsedAt = now;
      } else if (this.grants.size + this.earlier.length < this.opts.maxEntries) {
        this.grants.set(grantId, { grantId, day, count: n, lastUsedAt: now });
      } else {
        this.metrics.usageDropped++;
      }
    }
    if (credentialId && (this.credentials.size < this.opts.maxEntries || this.credentials.has(credentialId))) {
      this.credentials.set(credentialId, now);
    }
  }

  /**
   * One allowed request: its first grant and credential (recordAllowed) and its
   * route (recordRoute), the data plane's one call per request.
   */
  recordRequest(grantId: string | null, credentialId: string | null, routeId: string, now: number, n = 1): void {
    this.recordAllowed(grantId, credentialId, now, n);
    this.recordRoute(routeId, now, n);
  }

  /** One allowed request on a route (one Map lookup by an id string, as for grants). */
  recordRoute(routeId: string, now: number, n = 1): void {
    const day = this.utcDay(now);
    const r = this.routes.get(routeId);
    if (r) {
      r.count += n;
      r.lastUsedAt = now;
    } else if (this.routes.size + this.earlierRoutes.length < this.opts.maxEntries) {
      this.routes.set(routeId, { routeId, day, count: n, lastUsedAt: now });
    } else {
      this.metrics.usageDropped++;
    }
  }

  recordShadow(apiId: string | null, method: string, path: string, keyHash: string | null, now: number, n = 1): void {
    const k = `${apiId ?? ""} ${method} ${path}`;
    let s = this.shadow.get(k);
    if (!s) {
      if (this.shadow.size >= this.opts.maxShadow) {
        // Oldest observation goes first (Map iteration is insertion order).
        this.shadow.delete(this.shadow.keys().next().value!);
        this.metrics.shadowDropped++;
      }
      s = { apiId, method, path, count: 0, keys: new Set(), firstSeenAt: now, lastSeenAt: now };
      this.shadow.set(k, s);
    }
    s.count += n;
    s.lastSeenAt = now;
    if (keyHash && s.keys.size < MAX_KEYS_PER_SHADOW) s.keys.add(keyHash.slice(0, 16));
  }

  pendingEntries(): number {
    let n = this.grants.size + this.earlier.length + this.credentials.size + this.shadow.size + this.routes.size + this.earlierRoutes.length + (this.signals?.size ?? 0);
    for (const r of this.queue) n += r.grants.length + r.credentials.length + r.shadow.length + r.routes.length + (r.signals?.length ?? 0);
    return n;
  }

  /** Moves the aggregate into reports of bounded size, each with a fixed id. */
  private cut(): void {
    const grants = [...this.earlier, ...this.grants.values()].map((g) => ({ grantId: g.grantId, day: g.day, count: g.count, lastUsedAt: iso(g.lastUsedAt) }));
    const credentials = [...this.credentials].map(([credentialId, t]) => ({ credentialId, lastUsedAt: iso(t) }));
    const shadow = [...this.shadow.values()].map((s) => ({
      apiId: s.apiId,
      method: s.method,
      path: s.path,
      count: s.count,
      distinctKeys: s.keys.size,
      firstSeenAt: iso(s.firstSeenAt),
      lastSeenAt: iso(s.lastSeenAt),
    }));
    const routes = [...this.earlierRoutes, ...this.routes.values()].map((r) => ({ routeId: r.routeId, day: r.day, count: r.count, lastUsedAt: iso(r.lastUsedAt) }));
    this.grants = new Map();
    this.earlier = [];
    this.credentials = new Map();
    this.shadow = new Map();
    this.routes = new Map();
    this.earlierRoutes = [];
    // A waiting report keeps its signals: if the dashboard is down, later windows queue behind it (bounded like usage).
    const signals = this.signals && this.queue.length < MAX_QUEUED_SIGNAL_REPORTS ? this.signals.take() : [];
    while (grants.length || credentials.length || shadow.length || routes.length || signals.length) {
      const g = grants.splice(0, ENTRIES_PER_REPORT);
      const c = credentials.splice(0, ENTRIES_PER_REPORT);
      const s = shadow.splice(0, ENTRIES_PER_REPORT);
      const r = routes.splice(0, ENTRIES_PER_REPORT);
      const sig = signals.splice(0, SIGNALS_PER_REPORT);
      const report: UsageReport = { reportId: randomUUID(), proxy: this.opts.proxyName, environment: this.opts.environment, grants: g, credentials: c, shadow: s, routes: r };
      if (this.signals) report.signals = sig;
      this.queue.push(report);
    }
    // With no traffic, still report (empty) about once a minute: the dashboard
    // holds dormancy findings back when a proxy's feed goes quiet, and must be
    // able to tell "no usage" from "no reports".
    if (this.queue.length === 0 && Date.now() - this.lastDeliveredAt >= HEARTBEAT_MS) {
      this.queue.push({ reportId: randomUUID(), proxy: this.opts.proxyName, environment: this.opts.environment, grants: [], credentials: [], shadow: [], routes: [] });
    }
  }

  start(): void {
    if (!this.opts.dashboardUrl) return;
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  flush(): Promise<void> {
    this.flushing ??= this.deliver().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async deliver(): Promise<void> {
    if (!this.opts.dashboardUrl) return;
    if (this.queue.length === 0) this.cut();
    while (this.queue.length > 0) {
      const report = this.queue[0];
      try {
        const res = await request(new URL("/api/v1/usage", this.opts.dashboardUrl), {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${this.opts.dashboardToken}` },
          body: JSON.stringify(report),
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        await res.body.dump();
        if (res.statusCode === 400 || res.statusCode === 413 || res.statusCode === 422) {
          // The dashboard will never accept this report; retrying forever would block all later usage.
          this.log.error({ reportId: report.reportId, status: res.statusCode }, "usage report rejected, dropped");
          this.queue.shift();
          continue;
        }
        if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`dashboard answered ${res.statusCode}`);
        this.queue.shift();
        this.lastDeliveredAt = Date.now();
        this.metrics.usageReportsSent++;
      } catch (e) {
        this.metrics.usageReportFailures++;
        this.log.warn({ err: (e as Error).message, reportId: report.reportId, pending: this.pendingEntries() }, "usage report not delivered; will retry");
        return;
      }
    }
  }
}
