// Prometheus text exposition, kept dependency-free: a few counters, one
// latency histogram and gauges read at scrape time.

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  // By mode, then decision: both keys are constant strings, so counting needs no key building.
  private readonly decisions = { proxy: new Map<string, number>(), forward_auth: new Map<string, number>() };
  private readonly buckets = new Array<number>(BUCKETS.length).fill(0);
  private sum = 0;
  private count = 0;
  usageDropped = 0;
  shadowDropped = 0;
  usageReportsSent = 0;
  usageReportFailures = 0;

  decision(mode: "proxy" | "forward_auth", decision: string): void {
    const m = this.decisions[mode];
    m.set(decision, (m.get(decision) ?? 0) + 1);
  }

  latency(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) this.buckets[i]++;
  }

  render(g: { revision: number; ready: boolean; counts: Record<string, number>; inFlight: number; pendingUsage: number }): string {
    const out: string[] = [];
    out.push("# HELP tollgate_proxy_requests_total Requests by mode and decision.", "# TYPE tollgate_proxy_requests_total counter");
    for (const [mode, m] of Object.entries(this.decisions)) {
      for (const [decision, v] of m) out.push(`tollgate_proxy_requests_total{mode="${mode}",decision="${decision}"} ${v}`);
    }
    out.push("# HELP tollgate_proxy_request_duration_seconds Time from request to response headers.", "# TYPE tollgate_proxy_request_duration_seconds histogram");
    BUCKETS.forEach((b, i) => out.push(`tollgate_proxy_request_duration_seconds_bucket{le="${b}"} ${this.buckets[i]}`));
    out.push(`tollgate_proxy_request_duration_seconds_bucket{le="+Inf"} ${this.count}`);
    out.push(`tollgate_proxy_request_duration_seconds_sum ${this.sum}`, `tollgate_proxy_request_duration_seconds_count ${this.count}`);
    const gauge = (name: string, help: string, v: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${v}`);
    gauge("tollgate_proxy_state_revision", "Current state revision.", g.revision);
    gauge("tollgate_proxy_ready", "1 when a complete state is loaded.", g.ready ? 1 : 0);
    gauge("tollgate_proxy_in_flight_requests", "Requests being served.", g.inFlight);
    gauge("tollgate_proxy_usage_pending_entries", "Usage entries not yet delivered to the dashboard.", g.pendingUsage);
    out.push("# HELP tollgate_proxy_state_objects Objects in the enforcement state.", "# TYPE tollgate_proxy_state_objects gauge");
    for (const [k, v] of Object.entries(g.counts)) out.push(`tollgate_proxy_state_objects{kind="${k}"} ${v}`);
    const counter = (name: string, help: string, v: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${v}`);
    counter("tollgate_proxy_usage_dropped_total", "Grant usage entries dropped because the pending buffer was full.", this.usageDropped);
    counter("tollgate_proxy_shadow_dropped_total", "Shadow observations dropped (oldest first) because the buffer was full.", this.shadowDropped);
    counter("tollgate_proxy_usage_reports_sent_total", "Usage reports accepted by the dashboard.", this.usageReportsSent);
    counter("tollgate_proxy_usage_report_failures_total", "Usage report deliveries that failed (retried later).", this.usageReportFailures);
    return out.join("\n") + "\n";
  }
}
