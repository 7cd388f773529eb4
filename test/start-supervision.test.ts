import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";

// Issue 14 item 0: under `npm start` the proxy used to be stopped whenever the
// dashboard died, so one request that crashed the dashboard took enforcement
// down with it. Now: kill the dashboard's process group (as a crash would), the
// proxy keeps answering, and the dashboard is restarted with a logged backoff.
let tdb: TestDatabase;
let dataDir: string;
let start: ChildProcess | undefined;
let output = "";
const ports = { web: 0, proxy: 0, admin: 0 };
// `next dev` rewrites tsconfig.json's include list on start; the test leaves the checkout as it found it.
const TSCONFIG = path.resolve("tsconfig.json");
const tsconfig = readFileSync(TSCONFIG, "utf8");

async function until<T>(what: string, fn: () => Promise<T | null | false> | T | null | false, timeoutMs = 180_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (start && start.exitCode !== null) throw new Error(`start.ts exited (${start.exitCode}) while waiting for ${what}:\n${output.slice(-3000)}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; output so far:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

/** Any HTTP answer from the proxy's data plane (its status depends on its state, not the point here). */
const proxyAnswers = async () => {
  try {
    const r = await fetch(`http://127.0.0.1:${ports.proxy}/no-such-api/x`, { signal: AbortSignal.timeout(5_000) });
    return r.status > 0;
  } catch {
    return false;
  }
};

const dashboardPids = () => [...output.matchAll(/dashboard started \(pid (\d+)\)/g)].map((m) => Number(m[1]));

beforeAll(async () => {
  // Empty: start.ts applies the migrations itself (prisma migrate deploy wants its own history table).
  tdb = await createTestDatabase({ migrate: false });
  dataDir = mkdtempSync(path.join(os.tmpdir(), "tollgate-start-"));
  ports.web = await freePort();
  ports.proxy = await freePort();
  ports.admin = await freePort();
});

afterAll(async () => {
  if (start?.pid && start.exitCode === null) {
    const exited = new Promise((r) => start!.once("exit", r));
    process.kill(-start.pid, "SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  }
  // Whatever outlived start.ts's own shutdown: its process group and the supervised children's groups.
  for (const pid of [start?.pid, ...dashboardPids(), ...[...output.matchAll(/enforcement proxy started \(pid (\d+)\)/g)].map((m) => Number(m[1]))]) {
    try {
      if (pid) process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  if (readFileSync(TSCONFIG, "utf8") !== tsconfig) writeFileSync(TSCONFIG, tsconfig);
  await tdb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("killing the dashboard leaves the proxy answering; the dashboard is restarted with a logged backoff", async () => {
  start = spawn(process.execPath, [path.resolve("node_modules/tsx/dist/cli.mjs"), "scripts/start.ts", "--dev"], {
    detached: true,
    env: {
      ...process.env,
      DATABASE_URL: tdb.url,
      // Outside demo mode start.ts refuses a superuser role (it could rewrite the audit log; README,
      // "Database roles"); this test is about supervision, so it runs as the demo does, which only warns.
      TOLLGATE_DEMO: "1",
      PORT: String(ports.web),
      PROXY_LISTEN: `127.0.0.1:${ports.proxy}`,
      PROXY_ADMIN_LISTEN: `127.0.0.1:${ports.admin}`,
      TOLLGATE_DATA_DIR: dataDir,
      TOLLGATE_BACKGROUND: "0",
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  start.stdout!.on("data", (d) => (output += d));
  start.stderr!.on("data", (d) => (output += d));

  await until("the proxy to answer", proxyAnswers);
  const [firstPid] = await until("the dashboard to start", () => (dashboardPids().length ? dashboardPids() : null));
  await until("the dashboard to listen", () => listening(ports.web));

  // A crash: the whole dashboard process group dies at once.
  process.kill(-firstPid, "SIGKILL");
  await until("start.ts to log the crash", () => /dashboard exited \(signal SIGKILL\); restarting in \d+(\.\d)? s \(restart 1\)/.test(output));
  expect(start.exitCode).toBeNull();
  // The proxy is untouched: still answering while the dashboard is down and being restarted.
  for (let i = 0; i < 5; i++) expect(await proxyAnswers()).toBe(true);

  const pids = await until("the dashboard to be restarted", () => (dashboardPids().length >= 2 ? dashboardPids() : null));
  expect(pids[1]).not.toBe(firstPid);
  await until("the restarted dashboard to listen", () => listening(ports.web));
  expect(await proxyAnswers()).toBe(true);
}, 400_000);
