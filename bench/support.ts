import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { request } from "undici";
import { nginxMainLines, nginxTempPaths } from "../proxy-nginx/generate";

/**
 * A database of the benchmark's own on the real Postgres (DATABASE_URL's
 * server, else 127.0.0.1:5432), created and dropped by the benchmark.
 */
export function benchDatabase() {
  const server = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres");
  server.pathname = "/postgres";
  const name = `tollgate_bench_${randomBytes(4).toString("hex")}`;
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { server, name, url };
}

/** Runs one statement on the server's maintenance database (CREATE/DROP DATABASE). */
export async function serverSql(server: URL, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: server.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** The p-th percentile of an ascending array (nearest-rank). */
export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Runs a benchmark's main: an error is printed and exits 1, so `npm run bench` stops on it. */
export function runBench(main: () => Promise<void>): void {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

/** How the proxy benchmarks run the proxy: on 127.0.0.1, for production, warnings only, no access log. */
export function benchProxyEnv(o: { dataPort: number; adminPort: number; adminToken: string; stateFile: string; accessLog?: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PROXY_LISTEN: `127.0.0.1:${o.dataPort}`,
    PROXY_ADMIN_LISTEN: `127.0.0.1:${o.adminPort}`,
    PROXY_ADMIN_TOKEN: o.adminToken,
    PROXY_ENVIRONMENT: "production",
    PROXY_STATE_FILE: o.stateFile,
    PROXY_LOG_LEVEL: "warn",
    PROXY_ACCESS_LOG: o.accessLog ?? "false",
  };
}

/** Waits (every 50 ms, at most `tries` times) until the proxy's admin API answers. */
export async function untilAdminAnswers(adminUrl: string, adminToken: string, tries: number, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await (await request(`${adminUrl}/admin/v1/state`, { headers: { authorization: `Bearer ${adminToken}` } })).body.dump();
      return;
    } catch {
      if (i > tries) throw new Error(`${what} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Plain nginx as a reverse proxy of the bench upstream (upstream keep-alive): the baseline the nginx data plane is measured against. */
export function plainNginxConf(dir: string, port: number, upPort: number | string, workers: number, userRoot: boolean): string {
  return `${nginxMainLines(dir, workers, userRoot)}
events { worker_connections 4096; }
http {
  access_log off;
${nginxTempPaths(dir)}
  upstream bench_upstream { server 127.0.0.1:${upPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port} reuseport;
    location / { proxy_pass http://bench_upstream; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`;
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}
