/**
 * The nginx data plane against plain nginx (`npx tsx bench/proxy-nginx.ts`), one run, side by side:
 * the same upstream behind plain nginx (reverse proxy, upstream keep-alive) and behind the nginx data plane
 * (proxy-nginx/: the decision in access_by_lua over shared dicts) holding bench/proxy-state.ts's state
 * (200,000 credentials, 1,000,000 grants, 2,000 templates by default; BENCH_CREDENTIALS / BENCH_GRANTS to shrink),
 * at 1 and then 2 workers for both (`nginx -s reload` between). Reports wrk req/s in interleaved rounds (medians) and
 * the plane/plain ratio per worker count, revoke-to-first-403 over connections spread across the workers, and
 * memory: shared dict bytes used, per-worker private memory (RssAnon), the controller's RSS.
 * Results go into docs/BENCHMARKS.md by hand.
 */
import { fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { Agent, Pool, request } from "undici";
import { NGINX } from "../proxy/nginx-support";
import { controlSocket, nginxMainLines, nginxTempPaths, writeNginxPlane } from "../proxy-nginx/generate";
import { freePort } from "../test/support/db";
import { untilAdminAnswers } from "./support";
import { allowedRequest, benchRequests, CREDENTIALS, GRANTS, GRANTS_PER_PRINCIPAL, snapshotBody } from "./proxy-state";

const ROOT = path.resolve(import.meta.dirname, "..");
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 250);
const STATE_MB = Number(process.env.BENCH_NGINX_STATE_MB ?? 768);
const ADMIN_TOKEN = "bench-admin-token-0123456789";
const children: ChildProcess[] = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-nginx-"));
const root = process.getuid?.() === 0;

const f = (n: number, d = 2) => n.toFixed(d);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

function plainConfig(dir: string, port: number, upPort: number, workers: number): string {
  const file = path.join(dir, "nginx.conf");
  writeFileSync(
    file,
    `${nginxMainLines(dir, workers, root)}
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
`,
  );
  return file;
}

/** Starts nginx on a config; returns how to reload it (after the config file changed). */
async function runNginx(dir: string, conf: string, port: number): Promise<{ reload(): void; pids(): number[] }> {
  const args = ["-p", dir, "-c", conf, "-e", path.join(dir, "logs/error.log")];
  const child = spawn(NGINX, args, { stdio: "ignore" });
  children.push(child);
  for (let i = 0; ; i++) {
    const r = spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
    if (r.status === 0) break;
    if (i > 200) throw new Error(`nginx on ${port} did not start`);
    await new Promise((res) => setTimeout(res, 50));
  }
  const pids = () => {
    const master = Number(readFileSync(path.join(dir, "nginx.pid"), "utf8"));
    return [master, ...readFileSync(`/proc/${master}/task/${master}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)];
  };
  return {
    pids,
    reload() {
      const before = pids().slice(1);
      if (spawnSync(NGINX, [...args, "-s", "reload"]).status !== 0) throw new Error("nginx -s reload failed");
      for (let i = 0; i < 200; i++) {
        const now = pids().slice(1);
        if (now.length > 0 && now.every((p) => !before.includes(p))) return;
        spawnSync("sleep", ["0.05"]);
      }
      throw new Error("nginx reload did not replace the workers");
    },
  };
}

function wrk(url: string, script: string): number {
  const r = spawnSync("/usr/bin/wrk", ["-t1", "-c32", `-d${WRK_SECONDS}s`, "-s", script, url], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} non-2xx responses against ${url}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)![1]);
}

const kb = (pid: number, k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

async function main() {
  const [upPort, plainPort, planePort, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const up = fork(path.join(ROOT, "bench/proxy-upstream.ts"), [String(upPort)], { execArgv: ["--import", "tsx"], stdio: "ignore" });
  children.push(up);
  await new Promise((r) => up.once("message", r));
  const upstreamUrl = `http://127.0.0.1:${upPort}`;

  const plainDir = path.join(tmp, "plain");
  for (const d of ["logs", "tmp"]) mkdirSync(path.join(plainDir, d), { recursive: true });
  const planeDir = path.join(tmp, "plane");
  const planeOpts = (workers: number) => ({ prefix: planeDir, listen: { host: "127.0.0.1", port: planePort }, workers, stateDictMb: STATE_MB, userRoot: root });
  const plain = await runNginx(plainDir, plainConfig(plainDir, plainPort, upPort, 1), plainPort);
  const plane = await runNginx(planeDir, writeNginxPlane(planeOpts(1)), planePort);
  nginxes.push(plain, plane);

  const controller = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "proxy-nginx/controller.ts")], {
    cwd: ROOT,
    env: { ...process.env, PROXY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`, PROXY_ADMIN_TOKEN: ADMIN_TOKEN, PROXY_ENVIRONMENT: "production", PROXY_STATE_FILE: path.join(tmp, "state.ndjson"), PROXY_LOG_LEVEL: "warn", NGINX_CONTROL_SOCKET: controlSocket(planeDir) },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(controller);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  await untilAdminAnswers(adminUrl, ADMIN_TOKEN, 600, "controller");
  console.log(`[nginx-plane] pushing the snapshot: ${CREDENTIALS} credentials, ${GRANTS} grants`);
  const t = performance.now();
  const push = await request(`${adminUrl}/admin/v1/snapshot`, { method: "PUT", headers: { ...auth, "content-type": "application/x-ndjson" }, body: Readable.from(snapshotBody(upstreamUrl)), headersTimeout: 1_800_000, bodyTimeout: 1_800_000 });
  const pushText = await push.body.text();
  if (push.statusCode !== 200) throw new Error(`snapshot push failed: ${push.statusCode} ${pushText.slice(0, 300)}`);
  console.log(`[nginx-plane] state validated, persisted and loaded into the shared dicts in ${f((performance.now() - t) / 1000, 1)} s`);

  const reqs = benchRequests();
  const lua = path.join(tmp, "requests.lua");
  writeFileSync(lua, `local reqs = {\n${reqs.map((r) => `{"${r.path}","Bearer ${r.key}"}`).join(",\n")}\n}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  local r = reqs[(i % #reqs) + 1]\n  return wrk.format("GET", r[1], { ["Authorization"] = r[2] })\nend\n`);
  const targets = { plain: `http://127.0.0.1:${plainPort}`, plane: `http://127.0.0.1:${planePort}` };
  const results: Record<string, { plain: number; plane: number; ratio: number; rounds: number[] }> = {};
  for (const workers of [1, 2]) {
    if (workers === 2) {
      plainConfig(plainDir, plainPort, upPort, 2);
      writeNginxPlane(planeOpts(2));
      plain.reload();
      plane.reload();
    }
    for (const url of Object.values(targets)) spawnSync("/usr/bin/wrk", ["-t1", "-c8", "-d2s", "-s", lua, url]);
    const runs = { plain: [] as number[], plane: [] as number[] };
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      runs.plain.push(wrk(targets.plain, lua));
      runs.plane.push(wrk(targets.plane, lua));
      ratios.push(runs.plane[round - 1] / runs.plain[round - 1]);
      console.log(`[nginx-plane] ${workers} worker(s) round ${round}: plain ${f(runs.plain[round - 1], 0)} req/s, plane ${f(runs.plane[round - 1], 0)} req/s, ${f(ratios[round - 1])}x`);
    }
    results[`${workers}`] = { plain: median(runs.plain), plane: median(runs.plane), ratio: median(ratios), rounds: ratios.map((r) => Number(f(r))) };
  }

  // Revoke-to-first-403 with 2 workers: the revoke is sent, and the same call repeated (over 4 connections the
  // kernel spreads across the workers) until the first 403; the acknowledgement is timed separately.
  const data = new Pool(targets.plane, { connections: 4 });
  const admin = new Pool(adminUrl, { connections: 1 });
  const revokeMs: number[] = [];
  const ackMs: number[] = [];
  const call = async (rq: { path: string; key: string }) => {
    const r = await data.request({ path: rq.path, method: "GET", headers: { authorization: `Bearer ${rq.key}` } });
    await r.body.dump();
    return r.statusCode;
  };
  for (let i = 0; i < REVOCATIONS; i++) {
    const rq = allowedRequest((i * 104729 + 17) % CREDENTIALS, i % GRANTS_PER_PRINCIPAL, 1_000_000 + i);
    if ((await call(rq)) !== 200) throw new Error("expected 200 before the revoke");
    const t0 = performance.now();
    const ack = admin
      .request({ path: `/admin/v1/grants/${rq.grant}`, method: "DELETE", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ idempotencyKey: `bench-revoke-${i}` }) })
      .then(async (r) => (await r.body.dump(), r.statusCode === 200 ? performance.now() - t0 : Promise.reject(new Error(`revoke ${r.statusCode}`))));
    for (;;) {
      const s = await call(rq);
      if (s === 403) break;
      if (s !== 200) throw new Error(`unexpected ${s}`);
      if (performance.now() - t0 > 5000) throw new Error("revoke not enforced within 5 s");
    }
    revokeMs.push(performance.now() - t0);
    ackMs.push(await ack);
    // After the acknowledgement, every connection (both workers) denies.
    const after = await Promise.all([0, 1, 2, 3].map(() => call(rq)));
    if (after.some((s) => s !== 403)) throw new Error(`acknowledged revoke honoured: ${after}`);
  }
  await data.close();
  await admin.close();

  const status = (await (await request("http://control/status", { dispatcher: new Agent({ connect: { socketPath: controlSocket(planeDir) } }) })).body.json()) as { dict: { capacity: number; free: number; usageCapacity: number; usageFree: number } };
  const workers = plane.pids().slice(1);
  const mb = (b: number) => Math.round(b / 2 ** 20);
  const memory = {
    dictConfiguredMb: mb(status.dict.capacity),
    dictUsedMb: mb(status.dict.capacity - status.dict.free),
    workerPrivateMb: workers.map((p) => Math.round(kb(p, "RssAnon") / 1024)),
    controllerRssMb: Math.round(kb(controller.pid!, "VmRSS") / 1024),
  };
  const summary = {
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(1))),
    state: { credentials: CREDENTIALS, grants: GRANTS },
    throughput: results,
    revokeTo403Ms: { n: revokeMs.length, p50: Number(f(pct(revokeMs, 0.5))), p99: Number(f(pct(revokeMs, 0.99))), max: Number(f(Math.max(...revokeMs))) },
    revokeAckMs: { p50: Number(f(pct(ackMs, 0.5))), p99: Number(f(pct(ackMs, 0.99))) },
    memory,
    targets: {
      throughput1: results["1"].ratio >= 0.9 ? "met" : "MISSED",
      throughput2: results["2"].ratio >= 0.9 ? "met" : "MISSED",
      revokeP99: pct(revokeMs, 0.99) <= 10 ? "met" : "MISSED",
      // The shared dicts as configured (allocated up front) plus each worker's private memory.
      memory: memory.dictConfiguredMb + memory.workerPrivateMb.reduce((a, b) => a + b, 0) <= 600 ? "met" : "MISSED",
    },
  };
  console.log(JSON.stringify(summary, null, 2));
}

/** Each nginx's master and workers: a SIGKILL of the master alone would leave its workers running. */
const nginxes: { pids(): number[] }[] = [];

async function cleanup() {
  for (const n of nginxes) {
    try {
      for (const pid of n.pids()) process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await new Promise((r) => setTimeout(r, 200));
  rmSync(tmp, { recursive: true, force: true });
}

main()
  .then(async () => (await cleanup(), process.exit(0)))
  .catch(async (e) => {
    console.error(`[nginx-plane] ${e instanceof Error ? e.stack : String(e)}`);
    await cleanup();
    process.exit(1);
  });
