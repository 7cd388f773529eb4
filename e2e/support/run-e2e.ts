/**
 * Starts the whole e2e stack, runs Playwright against it, tears it down:
 *  - a fresh database on real Postgres (embedded only if none), migrated and seeded with the demo company;
 *  - a real upstream API and the real enforcement proxy (proxy/main.ts) for production;
 *  - the production build of the dashboard (`next build` + `next start`) in demo mode, which a spec
 *    may stop and start again through a small control endpoint (E2E_CONTROL_URL, see startControl).
 * Everything a spec needs is passed in the environment (see E2E_* below).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createTestDatabase, freePort } from "@/test/support/db";
import { startUpstream } from "@/test/support/upstream";
import { createDb } from "@/lib/db";
import { seedDemo } from "@/lib/seed";
import { createServiceToken } from "@/lib/auth/service-tokens";
import { systemActor } from "@/lib/auth/actor";
import { E2E_OIDC, e2eOidcAppEnv, startE2eOidcProvider, type RunningOidcProvider } from "./oidc-provider";

const children: ChildProcess[] = [];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: "inherit", env });
    c.on("exit", (code) => resolve(code ?? 1));
  });
}

function background(cmd: string, args: string[], env: NodeJS.ProcessEnv, name: string): ChildProcess {
  // Its own process group: npx starts the real server as a grandchild, and only
  // signalling the whole group stops it (otherwise next-server outlives the run).
  const c = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  c.stdout?.on("data", (d) => process.env.E2E_VERBOSE && process.stdout.write(`[${name}] ${d}`));
  c.stderr?.on("data", (d) => process.stderr.write(`[${name}] ${d}`));
  children.push(c);
  return c;
}

function signalGroup(c: ChildProcess, signal: NodeJS.Signals) {
  try {
    if (c.pid) process.kill(-c.pid, signal);
  } catch {
    // already gone
  }
}

async function stopAll() {
  const exited = children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : null));
  for (const c of children) signalGroup(c, "SIGTERM");
  const timeout = new Promise((r) => setTimeout(r, 10_000));
  await Promise.race([Promise.all(exited), timeout]);
  for (const c of children) signalGroup(c, "SIGKILL");
}

async function waitFor(url: string, ok: (status: number) => boolean, timeoutMs: number, headers: Record<string, string> = {}) {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const r = await fetch(url, { headers, redirect: "manual" });
      if (ok(r.status)) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${url} (${last})`);
}

/**
 * Lets a spec stop and start the dashboard (POST /dashboard/stop|start with the bearer
 * token), e.g. to show that the proxy ends time-boxed access with no dashboard running.
 * Each call answers once the dashboard is really down (its port refuses connections)
 * or really up (it serves /signin); the proxy keeps running throughout.
 */
function startControl(dashboard: { stop(): Promise<void>; start(): Promise<void> }, token: string): Promise<{ url: string; close(): void }> {
  let busy: Promise<void> = Promise.resolve();
  const server = http.createServer((req, res) => {
    const op = req.method === "POST" && req.headers.authorization === `Bearer ${token}` ? { "/dashboard/stop": dashboard.stop, "/dashboard/start": dashboard.start }[req.url ?? ""] : undefined;
    if (!op) return void res.writeHead(404).end();
    // One operation at a time: a start never races a stop.
    busy = busy.then(op).then(
      () => void res.writeHead(200).end("ok"),
      (e: unknown) => void res.writeHead(500).end(e instanceof Error ? e.message : String(e)),
    );
  });
  server.requestTimeout = 0; // a start may take minutes on a busy machine
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, close: () => void server.close() });
    }),
  );
}

/** Until nothing listens at `url` any more (connection refused). */
async function waitDown(url: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      await (await fetch(url, { redirect: "manual" })).arrayBuffer();
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} still answers after ${timeoutMs} ms`);
}

async function main() {
  const passThrough = process.argv.slice(2);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => void stopAll().finally(() => process.exit(130)));
  }
  const tdb = await createTestDatabase();
  const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-e2e-"));
  let code = 1;
  let idp: RunningOidcProvider | undefined;
  let control: { url: string; close(): void } | undefined;
  try {
    const db = createDb(tdb.url, 2);
    await seedDemo(db);
    const production = await db.environment.findFirstOrThrow({ where: { tier: "production" }, orderBy: { name: "asc" } });

    const [appPort, proxyPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    const upstream = await startUpstream();
    // Point every production API at the real upstream so proxied requests succeed.
    await db.api.updateMany({ where: { environmentId: production.id }, data: { baseUrl: upstream.url } });
    const adminToken = "e2e-admin-token-0123456789abcdef";
    await db.proxy.create({
      data: { name: "e2e", adminUrl: `http://127.0.0.1:${adminPort}`, adminToken, environmentId: production.id },
    });
    const { token: dashboardToken } = await createServiceToken(systemActor("e2e"), { name: "e2e proxy", scopes: ["usage:ingest", "proxy:sync"] }, db);
    await db.$disconnect();

    const appUrl = `http://127.0.0.1:${appPort}`;
    // A real OpenID Connect provider (oidc-provider) that only accepts this app's callback URL.
    // A free port unless one is given, so two e2e runs on one machine do not collide.
    if (!process.env.E2E_OIDC_PORT) E2E_OIDC.port = await freePort();
    idp = await startE2eOidcProvider(appUrl);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...e2eOidcAppEnv(idp.issuer),
      DATABASE_URL: tdb.url,
      TOLLGATE_DEMO: "1",
      NEXTAUTH_URL: appUrl,
      NEXTAUTH_SECRET: "e2e-secret-0123456789abcdef0123456789",
      PROXY_ADMIN_TOKEN: adminToken,
      // Specs decide when the analysis runs (a request through the proxy is usage, so order matters).
      TOLLGATE_FIRST_ANALYSIS_DELAY_MS: "-1",
    };

    console.log("[e2e] building the dashboard");
    if ((await run("npx", ["next", "build"], { ...env, NODE_ENV: "production" })) !== 0) throw new Error("next build failed");

    background("npx", ["tsx", "proxy/main.ts"], {
      ...env,
      PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
      PROXY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
      PROXY_NAME: "e2e",
      PROXY_ENVIRONMENT: production.name,
      PROXY_STATE_FILE: path.join(tmp, "proxy-state"),
      PROXY_LOG_LEVEL: "warn",
      DASHBOARD_URL: appUrl,
      DASHBOARD_TOKEN: dashboardToken,
      PROXY_USAGE_FLUSH_MS: "1000",
    }, "proxy");
    const startApp = () => background("npx", ["next", "start", "-p", String(appPort), "-H", "127.0.0.1"], { ...env, NODE_ENV: "production" }, "app");
    let app = startApp();
    const controlToken = randomBytes(16).toString("hex");
    control = await startControl(
      {
        async stop() {
          const exited = app.exitCode === null && app.signalCode === null ? new Promise((r) => app.once("exit", r)) : null;
          signalGroup(app, "SIGTERM");
          if (exited) await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
          signalGroup(app, "SIGKILL");
          await waitDown(`${appUrl}/signin`, 30_000);
        },
        async start() {
          app = startApp();
          await waitFor(`${appUrl}/signin`, (s) => s < 500, 180_000);
        },
      },
      controlToken,
    );

    await waitFor(`${appUrl}/signin`, (s) => s < 500, 120_000);
    // The proxy fails closed until it has pulled its first snapshot from the dashboard.
    await waitFor(`http://127.0.0.1:${adminPort}/admin/v1/ready`, (s) => s === 200, 60_000, { authorization: `Bearer ${adminToken}` });

    code = await run("npx", ["playwright", "test", ...passThrough], {
      ...process.env,
      BASE_URL: appUrl,
      E2E_DATABASE_URL: tdb.url,
      E2E_PROXY_URL: `http://127.0.0.1:${proxyPort}`,
      E2E_PROXY_ADMIN_URL: `http://127.0.0.1:${adminPort}`,
      E2E_PROXY_ADMIN_TOKEN: adminToken,
      E2E_UPSTREAM_URL: upstream.url,
      E2E_NEXTAUTH_SECRET: env.NEXTAUTH_SECRET,
      E2E_OIDC_PORT: String(E2E_OIDC.port),
      E2E_CONTROL_URL: control.url,
      E2E_CONTROL_TOKEN: controlToken,
    });
    await upstream.close();
  } catch (err) {
    console.error(`[e2e] ${err instanceof Error ? err.message : String(err)}`);
    code = 1;
  } finally {
    control?.close();
    await idp?.close().catch(() => undefined);
    await stopAll();
    await tdb.drop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
  process.exit(code);
}

void main();
