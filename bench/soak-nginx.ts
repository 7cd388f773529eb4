/**
 * Soak of the nginx data plane (`npx tsx bench/soak-nginx.ts [--minutes N]`, default 10; part of `npm run bench`,
 * never of `npm test`). The plane (2 workers, proxy-nginx/) holds bench/proxy-state.ts's state (by default a
 * smaller one: BENCH_CREDENTIALS=20000, BENCH_GRANTS=100000, so it loads in seconds; set them for the full state).
 *
 * First its capacity is measured (wrk -t1 -c32, SOAK_CAPACITY_SECONDS, default 10 s) unless SOAK_RATE is given; then
 * for N minutes an open-loop client sends requests at half that rate (SOAK_RATE overrides), while
 *   - every second one more grant is revoked through the admin API (DELETE /admin/v1/grants/:id), and from its
 *     acknowledgement on, part of the traffic keeps using that grant's (key, path);
 *   - every minute one nginx worker is killed with SIGKILL (its master starts a new one);
 *   - every 10 s the memory is sampled: each worker's private memory (RssAnon), the master's, the controller's RSS,
 *     and the shared dict's used bytes.
 * It counts requests allowed (2xx) with a grant whose revoke had been acknowledged before the request was sent
 * (must be 0), 5xx answers (must be 0), and connection errors (requests in flight on a killed worker: a reset,
 * not an answer; reported apart). Prints one JSON summary; exits 1 when a must-be-zero count is not.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fork, spawnSync, type ChildProcess } from "node:child_process";
import { Agent, Pool, request } from "undici";

process.env.BENCH_CREDENTIALS ??= "20000";
process.env.BENCH_GRANTS ??= "100000";
const { allowedRequest, benchRequests, CREDENTIALS, GRANTS, GRANTS_PER_PRINCIPAL, snapshotBody } = await import("./proxy-state");
const { ADMIN_TOKEN } = await import("../proxy/test-support");
const { nginxPlaneMissing, spawnNginxPlane } = await import("../proxy-nginx/test-support");
const { controlSocket } = await import("../proxy-nginx/generate");
const { freePort } = await import("../test/support/db");

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const MINUTES = Number(arg("minutes") ?? process.env.SOAK_MINUTES ?? 10);
const CAPACITY_SECONDS = Number(process.env.SOAK_CAPACITY_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 32);
const ROOT = path.resolve(import.meta.dirname, "..");
const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-soak-nginx-"));
const children: ChildProcess[] = [];
const log = (m: string) => console.log(`[soak-nginx] ${new Date().toISOString().slice(11, 19)} ${m}`);
const kb = (pid: number, k: string) => {
  try {
    return Number(new RegExp(`${k}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

function capacity(url: string): number {
  const reqs = benchRequests();
  const lua = path.join(tmp, "requests.lua");
  writeFileSync(lua, `local reqs = {\n${reqs.map((r) => `{"${r.path}","Bearer ${r.key}"}`).join(",\n")}\n}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  local r = reqs[(i % #reqs) + 1]\n  return wrk.format("GET", r[1], { ["Authorization"] = r[2] })\nend\n`);
  const r = spawnSync("/usr/bin/wrk", ["-t1", "-c32", `-d${CAPACITY_SECONDS}s`, "-s", lua, url], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)![1]);
}

async function main() {
  const missing = nginxPlaneMissing();
  if (missing) throw new Error(missing);
  const upPort = await freePort();
  const up = fork(path.join(ROOT, "bench/proxy-upstream.ts"), [String(upPort)], { execArgv: ["--import", "tsx"], stdio: "ignore" });
  children.push(up);
  await new Promise((r) => up.once("message", r));
  const upstreamUrl = `http://127.0.0.1:${upPort}`;
  const plane = await spawnNginxPlane({ PROXY_STATE_FILE: path.join(tmp, "state.ndjson"), NGINX_STATE_DICT_MB: process.env.BENCH_NGINX_STATE_MB ?? "768" }, { data: await freePort(), admin: await freePort() }, 2, path.join(tmp, "plane"));
  const stopAll = async () => {
    await plane.stop();
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  };
  try {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const t = performance.now();
    const push = await request(`${plane.adminUrl}/admin/v1/snapshot`, { method: "PUT", headers: { ...auth, "content-type": "application/x-ndjson" }, body: Readable.from(snapshotBody(upstreamUrl, "soak-snapshot")), headersTimeout: 1_800_000, bodyTimeout: 1_800_000 });
    const pushText = await push.body.text();
    if (push.statusCode !== 200) throw new Error(`snapshot push failed: ${push.statusCode} ${pushText.slice(0, 300)}`);
    log(`state loaded (${CREDENTIALS} credentials, ${GRANTS} grants) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const measured = process.env.SOAK_RATE ? null : capacity(plane.dataUrl);
    const rate = Number(process.env.SOAK_RATE ?? Math.max(1, Math.floor(measured! / 2)));
    log(`capacity ${measured === null ? "not measured (SOAK_RATE given)" : `${Math.round(measured)} req/s (wrk -t1 -c32, ${CAPACITY_SECONDS} s)`}; soaking ${MINUTES} min at ${rate} req/s`);

    const data = new Pool(plane.dataUrl, { connections: CONNECTIONS, pipelining: 1 });
    const traffic = benchRequests();
    // Revoked (key, path) pairs: the acknowledgement time of each, so a 2xx sent after it is a violation.
    const revoked: { path: string; key: string; ackAt: number }[] = [];
    const counts = { sent: 0, ok2xx: 0, denied403: 0, other4xx: 0, s5xx: 0, connectionErrors: 0, allowedAfterAck: 0, revokedProbes: 0 };
    const statusSeen: Record<string, number> = {};
    const latencies: number[] = [];
    let inFlight = 0;
    const send = async (rq: { path: string; key: string }, ackAt: number | null) => {
      const sentAt = performance.now();
      counts.sent++;
      inFlight++;
      try {
        const r = await data.request({ path: rq.path, method: "GET", headers: { authorization: `Bearer ${rq.key}` }, headersTimeout: 10_000, bodyTimeout: 10_000 });
        await r.body.dump();
        latencies.push(performance.now() - sentAt);
        statusSeen[r.statusCode] = (statusSeen[r.statusCode] ?? 0) + 1;
        if (r.statusCode >= 500) counts.s5xx++;
        else if (r.statusCode === 403) counts.denied403++;
        else if (r.statusCode >= 400) counts.other4xx++;
        else {
          counts.ok2xx++;
          if (ackAt !== null && sentAt > ackAt) counts.allowedAfterAck++;
        }
      } catch {
        counts.connectionErrors++;
      } finally {
        inFlight--;
      }
    };

    const started = performance.now();
    const endAt = started + MINUTES * 60_000;
    const samples: { s: number; workersPrivateMb: number[]; masterMb: number; controllerMb: number; dictUsedMb: number | null; inFlight: number }[] = [];
    const kills: { s: number; pid: number }[] = [];
    const revokeAckMs: number[] = [];
    const admin = new Pool(plane.adminUrl, { connections: 1 });
    const control = new Agent({ connect: { socketPath: controlSocket(plane.dir) } });
    const mb = (k: number) => Math.round(k / 1024);
    const sample = async () => {
      let dictUsedMb: number | null = null;
      try {
        const st = (await (await request("http://control/status", { dispatcher: control })).body.json()) as { dict: { capacity: number; free: number } };
        dictUsedMb = Math.round((st.dict.capacity - st.dict.free) / 2 ** 20);
      } catch {
        // a worker being replaced may not answer; the sample keeps the process figures
      }
      const [master, ...workers] = plane.nginxPids();
      const controllerPid = plane.controllerPid() ?? 0;
      samples.push({ s: Math.round((performance.now() - started) / 1000), workersPrivateMb: workers.map((p) => mb(kb(p, "RssAnon"))), masterMb: mb(kb(master, "VmRSS")), controllerMb: mb(kb(controllerPid, "VmRSS")), dictUsedMb, inFlight });
    };
    await sample();

    let revocations = 0;
    const revokeLoop = (async () => {
      for (let i = 0; performance.now() < endAt; i++) {
        const next = performance.now() + 1000;
        // Grants beyond the traffic's own (benchRequests uses ids 0..999), spread over the state.
        const rq = allowedRequest((i * 104729 + 17) % CREDENTIALS, i % GRANTS_PER_PRINCIPAL, 1_000_000 + i);
        const t0 = performance.now();
        const r = await admin.request({ path: `/admin/v1/grants/${rq.grant}`, method: "DELETE", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ idempotencyKey: `soak-revoke-${i}` }) });
        await r.body.dump();
        if (r.statusCode !== 200) throw new Error(`revoke ${i} answered ${r.statusCode}`);
        const ackAt = performance.now();
        revokeAckMs.push(ackAt - t0);
        revoked.push({ path: rq.path, key: rq.key, ackAt });
        revocations++;
        await new Promise((res) => setTimeout(res, Math.max(0, next - performance.now())));
      }
    })();
    const killLoop = (async () => {
      for (let m = 1; started + m * 60_000 < endAt; m++) {
        await new Promise((res) => setTimeout(res, started + m * 60_000 - performance.now()));
        const workers = plane.nginxPids().slice(1);
        const pid = workers[m % workers.length];
        process.kill(pid, "SIGKILL");
        kills.push({ s: Math.round((performance.now() - started) / 1000), pid });
        log(`killed worker ${pid}`);
      }
    })();
    const sampleLoop = (async () => {
      while (performance.now() < endAt) {
        await new Promise((res) => setTimeout(res, 10_000));
        await sample();
        const last = samples.at(-1)!;
        log(`${counts.sent} sent, ${counts.ok2xx} 2xx, ${counts.denied403} 403, ${counts.s5xx} 5xx, ${counts.connectionErrors} conn errors, ${counts.allowedAfterAck} allowed after ack; workers ${last.workersPrivateMb.join("/")} MB, controller ${last.controllerMb} MB, dict ${last.dictUsedMb} MB`);
      }
    })();

    // Open loop: requests are started on schedule whatever the answers do (capped in flight, so an overloaded
    // plane shows as a lower achieved rate, reported, rather than as an unbounded queue in this client).
    const pending = new Set<Promise<void>>();
    let n = 0;
    let skipped = 0;
    while (performance.now() < endAt) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      for (; n < due; n++) {
        if (inFlight >= CONNECTIONS * 8) {
          skipped++;
          continue;
        }
        // One request in ten uses a revoked grant (the most recent ones, where a lagging worker would show).
        const useRevoked = n % 10 === 0 && revoked.length > 0;
        const rv = useRevoked ? revoked[revoked.length - 1 - (n % Math.min(20, revoked.length))] : null;
        if (rv) counts.revokedProbes++;
        const p = send(rv ?? traffic[n % traffic.length], rv ? rv.ackAt : null);
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      await new Promise((res) => setTimeout(res, 1));
    }
    await Promise.all([revokeLoop, killLoop, sampleLoop, ...pending]);
    await sample();
    await data.close();
    await admin.close();
    await control.close();

    const seconds = (performance.now() - started) / 1000;
    const sorted = [...latencies].sort((a, b) => a - b);
    const q = (p: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0).toFixed(2));
    const ackSorted = [...revokeAckMs].sort((a, b) => a - b);
    const summary = {
      minutes: MINUTES,
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(1))),
      state: { credentials: CREDENTIALS, grants: GRANTS },
      capacityReqPerS: measured === null ? null : Math.round(measured),
      targetRate: rate,
      achievedRate: Math.round(counts.sent / seconds),
      skippedOverInFlightCap: skipped,
      counts,
      statusSeen,
      latencyMs: { p50: q(0.5), p99: q(0.99), max: q(1) },
      revocations,
      revokeAckMs: { p50: Number((ackSorted[Math.floor(ackSorted.length / 2)] ?? 0).toFixed(2)), p99: Number((ackSorted[Math.floor(ackSorted.length * 0.99)] ?? 0).toFixed(2)) },
      workerKills: kills,
      memorySamples: samples,
      verdict: { allowedAfterAck: counts.allowedAfterAck === 0 ? "0: met" : "MISSED", s5xx: counts.s5xx === 0 ? "0: met" : "MISSED" },
    };
    console.log(JSON.stringify(summary, null, 2));
    return counts.allowedAfterAck === 0 && counts.s5xx === 0;
  } finally {
    await stopAll();
  }
}

main()
  .then((ok) => {
    rmSync(tmp, { recursive: true, force: true });
    process.exit(ok ? 0 : 1);
  })
  .catch((e) => {
    console.error(`[soak-nginx] ${e instanceof Error ? e.stack : String(e)}`);
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    rmSync(tmp, { recursive: true, force: true });
    process.exit(1);
  });
