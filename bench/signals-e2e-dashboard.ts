/**
 * The dashboard side of bench/signals-e2e.ts, run as its own process (forked, `DATABASE_URL` = the bench's database)
 * so its CPU is the ingest's alone. It serves POST /api/v1/usage by calling the real Next route handler
 * (app/api/v1/usage/route.ts: service-token authentication, the body read as UTF-8 JSON, ingestUsageReport in one
 * transaction, the JSON answer) with the proxy's request rebuilt as a Web `Request`, as the route tests do; only
 * Next's HTTP layer is left out. GET /api/v1/proxy/snapshot answers 503: the bench pushes the proxy's state over the
 * admin API (as bench/proxy.ts does), and a failed pull leaves a pushed state in place.
 *
 * For every report it sends the parent one message: arrival and completion times, the route's wall time, this
 * process's CPU during it, and the CPU of the Postgres backends of this database during it (from /proc/<pid>/stat;
 * backends named `bench-*`, the meter and the parent's poller, are left out), and the report's entries.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import pg from "pg";
import { POST } from "../app/api/v1/usage/route";

const port = Number(process.argv[2]);
const TICK = 100; // USER_HZ

function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return null;
  }
}

const meter = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: "bench-meter" });
await meter.connect();

/** CPU seconds of this database's backends by pid (autovacuum workers on it included). */
async function backends(): Promise<Map<number, number>> {
  const { rows } = await meter.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND coalesce(application_name, '') NOT LIKE 'bench-%'`,
  );
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    const s = cpuSeconds(pid);
    if (s !== null) out.set(pid, s);
  }
  return out;
}
const pgDelta = (before: Map<number, number>, after: Map<number, number>) => {
  let s = 0;
  for (const [pid, t] of after) s += t - (before.get(pid) ?? 0);
  return s;
};

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    void (async () => {
      const body = Buffer.concat(chunks);
      if (req.method === "POST" && req.url === "/api/v1/usage") {
        const arrivedAt = Date.now();
        const pgBefore = await backends();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const response = await POST(
          new Request(`http://dashboard${req.url}`, { method: "POST", headers: { authorization: String(req.headers.authorization ?? ""), "content-type": "application/json" }, body }),
        );
        const text = await response.text();
        const wallMs = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const pgAfter = await backends();
        res.writeHead(response.status, { "content-type": "application/json" });
        res.end(text);
        const doneAt = Date.now();
        const r = JSON.parse(body.toString("utf8")) as Record<string, unknown[] | undefined>;
        const result = response.status === 200 ? (JSON.parse(text) as { anomalies: { rule: string }[] }) : null;
        process.send!({
          kind: "report",
          arrivedAt,
          doneAt,
          status: response.status,
          error: response.status === 200 ? undefined : text.slice(0, 300),
          bytes: body.length,
          wallMs,
          nodeCpuMs: (cpu.user + cpu.system) / 1000,
          pgCpuMs: pgDelta(pgBefore, pgAfter) * 1000,
          pgBackends: pgAfter.size,
          entries: { grants: r.grants?.length ?? 0, credentials: r.credentials?.length ?? 0, routes: r.routes?.length ?? 0, shadow: r.shadow?.length ?? 0, signals: r.signals?.length ?? 0 },
          anomalies: result?.anomalies.map((a) => a.rule) ?? [],
        });
        return;
      }
      if (req.method === "GET" && req.url?.startsWith("/api/v1/proxy/snapshot")) {
        res.writeHead(503, { "content-type": "application/json" });
        return void res.end(JSON.stringify({ error: { code: "unavailable", message: "bench: the state is pushed over the admin API" } }));
      }
      res.writeHead(404).end();
    })().catch((e: unknown) => {
      console.error("[signals-e2e dashboard]", e);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => process.send!({ kind: "ready" }));
