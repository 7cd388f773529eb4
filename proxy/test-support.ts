// Helpers for the proxy's integration tests: run the real proxy as a child
// process, talk to its admin API, build a small state. Not a test file itself.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import path from "node:path";
import { request } from "undici";

export const ADMIN_TOKEN = "test-admin-token-0123456789";
export const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** A seeded pseudo-random generator in [0, 1) (mulberry32), so generated test inputs repeat run to run. */
export function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Path segments the fuzz tests build request targets from (proxy/fuzz.test.ts, test/conformance). */
export const FUZZ_SEGMENTS = ["orders", "orders", "export", "42", "..", ".", "%2e%2e", "%2E", "%2f", "%2F", "%5c", "%00", "%", "%zz", "%c0%ae", "\\", "", ";", "..;", "%252e%252e", "{id}", "é", "😀", "a".repeat(3000), "%41", "~", "*", "@", "?x=1", "?a=%00", "#frag", "%0d%0aX-Injected:1"];

/** Starts a proxy entry point (proxy/main.ts, proxy-nginx/controller.ts) under tsx with the env both test harnesses give it. */
export function spawnUnderTsx(root: string, script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", path.join(root, script)], {
    cwd: root,
    env: { NODE_ENV: "test", PATH: process.env.PATH ?? "", PROXY_ADMIN_TOKEN: ADMIN_TOKEN, PROXY_ENVIRONMENT: "production", PROXY_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export interface ProxyProcess {
  child: ChildProcess;
  dataUrl: string;
  adminUrl: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function spawnProxy(env: Record<string, string>, ports: { data: number; admin: number }): Promise<ProxyProcess> {
  const root = path.resolve(__dirname, "..");
  const child = spawnUnderTsx(root, "proxy/main.ts", { PROXY_LISTEN: `127.0.0.1:${ports.data}`, PROXY_ADMIN_LISTEN: `127.0.0.1:${ports.admin}`, ...env });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  // A wait, not a speed check: tsx start-up on a busy 2-core machine took over 20 s (issue 14). An exit still fails at once.
  const until = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`proxy exited: ${out}`);
    try {
      const r = await request(`${adminUrl}/metrics`);
      await r.body.dump();
      break;
    } catch {
      if (Date.now() > until) throw new Error(`proxy did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    child,
    dataUrl: `http://127.0.0.1:${ports.data}`,
    adminUrl,
    output: () => out,
    stop: (signal = "SIGTERM") =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

export async function admin(adminUrl: string, method: string, p: string, body?: unknown, token: string | null = ADMIN_TOKEN) {
  const res = await request(adminUrl + p, {
    method: method as never,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, body: await bodyOf(res.body) };
}

export async function call(dataUrl: string, method: string, p: string, headers: Record<string, string> = {}, body?: string) {
  const res = await request(dataUrl + p, { method: method as never, headers, body });
  return { status: res.statusCode, headers: res.headers, body: await bodyOf(res.body) };
}

/** The body as JSON where it parses, else as text. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test helper: each test reads the body shape it expects
async function bodyOf(body: { text(): Promise<string> }): Promise<any> {
  const text = await body.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A small world: one API with a few routes, two principals with keys, grants. */
export function world(upstreamUrl: string) {
  const ids = {
    api: randomUUID(),
    readScope: randomUUID(),
    writeScope: randomUUID(),
    alice: randomUUID(),
    bob: randomUUID(),
    aliceCred: randomUUID(),
    bobCred: randomUUID(),
    expiredCred: randomUUID(),
    aliceRead: randomUUID(),
    aliceWrite: randomUUID(),
    bobReadExpired: randomUUID(),
    rList: randomUUID(),
    rGet: randomUUID(),
    rCreate: randomUUID(),
    rExport: randomUUID(),
    rHealth: randomUUID(),
  };
  const keys = { alice: "tg_live_alice_" + randomUUID(), bob: "tg_live_bob_" + randomUUID(), expired: "tg_live_exp_" + randomUUID() };
  const past = new Date(Date.now() - 60_000).toISOString();
  const snapshot = {
    apis: [{ id: ids.api, name: "orders", prefix: "/orders", upstream: upstreamUrl }],
    routes: [
      { id: ids.rList, apiId: ids.api, method: "GET", pathTemplate: "/orders", requirements: [[ids.readScope]], public: false },
      { id: ids.rGet, apiId: ids.api, method: "GET", pathTemplate: "/orders/{id}", requirements: [[ids.readScope], [ids.writeScope]], public: false },
      { id: ids.rExport, apiId: ids.api, method: "GET", pathTemplate: "/orders/export", requirements: [[ids.writeScope]], public: false },
      { id: ids.rCreate, apiId: ids.api, method: "POST", pathTemplate: "/orders", requirements: [[ids.writeScope]], public: false },
      { id: ids.rHealth, apiId: ids.api, method: "GET", pathTemplate: "/health", requirements: [], public: true },
    ],
    credentials: [
      { id: ids.aliceCred, principalId: ids.alice, hash: sha(keys.alice), expiresAt: null },
      { id: ids.bobCred, principalId: ids.bob, hash: sha(keys.bob), expiresAt: null },
      { id: ids.expiredCred, principalId: ids.bob, hash: sha(keys.expired), expiresAt: past },
    ],
    grants: [
      { id: ids.aliceRead, principalId: ids.alice, scopeId: ids.readScope, expiresAt: null },
      { id: ids.aliceWrite, principalId: ids.alice, scopeId: ids.writeScope, expiresAt: null },
      { id: ids.bobReadExpired, principalId: ids.bob, scopeId: ids.readScope, expiresAt: past },
    ],
  };
  return { ids, keys, snapshot };
}

/**
 * A snapshot body (PUT /admin/v1/snapshot) holding one API and these grants, with no
 * routes or credentials: the state a test or benchmark that only revokes grants starts the proxy from.
 */
export function grantsOnlySnapshot(idempotencyKey: string, api: { id: string; name: string; prefix: string; upstream: string }, grants: { id: string; principalId: string; scopeId: string }[]) {
  return { idempotencyKey, apis: [api], routes: [], credentials: [], grants: grants.map((g) => ({ id: g.id, principalId: g.principalId, scopeId: g.scopeId, expiresAt: null })) };
}
