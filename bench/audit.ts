/**
 * Audit checkpoints benchmark: `npx tsx bench/audit.ts [--events 1000000] [--checkpoints 300] [--decisions 200] [--only checkpoint,decisions,verify]`
 *
 * On a fresh database of its own on the real Postgres (DATABASE_URL's server, else 127.0.0.1:5432):
 * 1. checkpoint: signs and publishes a checkpoint after each appended event, N times — the Ed25519 signature
 *    alone, then createCheckpoint() as the schedule and exports call it (sign + database row + fsynced line in the
 *    checkpoint file + dispatch to a REAL proxy, proxy/main.ts), and separately the time until that proxy
 *    acknowledged. Target (issue 18): sign + publish p95 <= 5 ms. Alternating with each one, the same call through
 *    the Prisma client (the path before the dedicated connection), and the CPU time of each call (process.cpuUsage),
 *    which a loaded machine inflates far less than wall time.
 * 2. decisions: revoke decisions (lib/review revokeGrant, the real path) in alternating blocks with checkpoints
 *    off and on — "on" runs the checkpoint schedule every 100 ms (600x the default rate) — p50/p95 of each and
 *    the ratio, in one run. Target: no added latency.
 * 3. verify: writes a valid 1,000,000-event chain (hashes computed here, loaded with COPY), signs a checkpoint of
 *    its head, then times verifyAuditLog() in-process and `npm run audit:verify` as a child process (wall clock,
 *    npm and node start-up included; the first run also bundles the program). Target: <= 30 s.
 * --keep leaves the database and the key in place (printed), to time `npm run audit:verify` on the same chain again.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import pg from "pg";
import copyStreams from "pg-copy-streams";
import { request } from "undici";
import { createDb } from "@/lib/db";
import { applyMigrationsSql } from "@/lib/db/migrate";
import { appendAuditEvent, verifyAuditChain } from "@/lib/audit/chain";
import { crossCheckAuditEvents } from "@/lib/audit/cross-check";
import { canonicalJSON, eventHash, GENESIS_HASH } from "@/lib/audit/canonical";
import { signCheckpoint } from "@/lib/audit/checkpoint";
import { appendCheckpointFile, createCheckpoint, CHECKPOINT_FILE } from "@/lib/audit/publish";
import { closeCheckpointConnections } from "@/lib/audit/checkpoint-connection";
import { ensureSigningKeyFile } from "@/lib/audit/signing";
import { databaseCheckpoints, verifyAuditLog } from "@/lib/audit/verify";
import { readCheckpointsFile } from "@/lib/audit/checkpoint";
import { closeAdminPools } from "@/lib/enforcement/admin-client";
import { revokeGrant } from "@/lib/review";
import { makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer, daysAgo } from "@/lib/analysis/fixtures";
import { freePort } from "@/test/support/db";
import { benchDatabase, pct, serverSql } from "./support";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    checkpoints: { type: "string", default: "300" },
    decisions: { type: "string", default: "200" },
    only: { type: "string", default: "checkpoint,decisions,verify" },
    // Keep the database and the key (printed at the end), to compare code versions on the same 1M-event chain.
    keep: { type: "boolean", default: false },
  },
});
const PARTS = new Set(values.only!.split(","));
const EVENTS = Number(values.events);
const CHECKPOINTS = Number(values.checkpoints);
const DECISIONS = Number(values.decisions);
const log = (msg: string) => console.log(`[audit] ${msg}`);
const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${pct(s, 50).toFixed(2)} ms, p95 ${pct(s, 95).toFixed(2)} ms, max ${s[s.length - 1].toFixed(2)} ms (n=${s.length})`;
};
const p = (xs: number[], q: number) => pct([...xs].sort((a, b) => a - b), q);

const { server, name, url } = benchDatabase();
const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-audit-"));
const signer = ensureSigningKeyFile(path.join(tmp, "key.pem"));
const ADMIN_TOKEN = `bench-admin-token-${randomBytes(8).toString("hex")}`;

async function startProxy(): Promise<{ child: ChildProcess; adminUrl: string }> {
  const ports = { data: await freePort(), admin: await freePort() };
  const child = spawn(process.execPath, ["--import", "tsx", "proxy/main.ts"], {
    env: { NODE_ENV: "production", PATH: process.env.PATH ?? "", PROXY_LISTEN: `127.0.0.1:${ports.data}`, PROXY_ADMIN_LISTEN: `127.0.0.1:${ports.admin}`, PROXY_ADMIN_TOKEN: ADMIN_TOKEN, PROXY_STATE_FILE: path.join(tmp, "proxy-state"), PROXY_LOG_LEVEL: "warn" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  for (let i = 0; ; i++) {
    try {
      await (await request(`${adminUrl}/metrics`)).body.dump();
      return { child, adminUrl };
    } catch {
      if (i > 600) throw new Error("proxy did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main() {
  await serverSql(server, `CREATE DATABASE "${name}"`);
  await applyMigrationsSql(url.toString());
  const client = createDb(url.toString(), 6);
  let proxy: { child: ChildProcess; adminUrl: string } | null = null;
  try {
    if (PARTS.has("checkpoint")) {
      proxy = await startProxy();
      const target = { adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN };
      const dir = path.join(tmp, "checkpoints");
      const signOnly: number[] = [];
      const fileOnly: number[] = [];
      // The dedicated prepared-statement connection (what runs) and the Prisma path it replaced, alternating in one run.
      const paths = { pg: { publish: [] as number[], cpu: [] as number[], durable: [] as number[], ack: [] as number[] }, prisma: { publish: [] as number[], cpu: [] as number[], durable: [] as number[], ack: [] as number[] } };
      for (let i = 0; i < 2 * CHECKPOINTS + 40; i++) {
        const via = i % 2 === 0 ? "pg" : "prisma";
        await client.$transaction((tx) => appendAuditEvent(tx, { actor: "system:bench", action: "bench.event", data: { i } }));
        const t0 = performance.now();
        signCheckpoint(signer, { seq: BigInt(i), headHash: GENESIS_HASH });
        const t1 = performance.now();
        const c1 = process.cpuUsage();
        const made = await createCheckpoint(client, { signer, dir, reason: "manual", proxies: [target], viaPrisma: via === "prisma" });
        const t2 = performance.now();
        const c2 = process.cpuUsage(c1);
        await made!.durable;
        const tDurable = performance.now();
        const acks = await made!.proxies!;
        const t3 = performance.now();
        if (!acks.every((a) => a.ok)) throw new Error(`proxy refused a checkpoint: ${JSON.stringify(acks)}`);
        const t4 = performance.now();
        await appendCheckpointFile(path.join(tmp, "fsync-probe"), made!.checkpoint);
        const t5 = performance.now();
        if (i < 40) continue; // warm-up
        if (via === "pg") {
          fileOnly.push(t5 - t4);
          signOnly.push(t1 - t0);
        }
        const m = paths[via];
        m.publish.push(t2 - t1);
        m.cpu.push((c2.user + c2.system) / 1000);
        m.durable.push(tDurable - t1);
        m.ack.push(t3 - t1);
      }
      const { pg: d, prisma: o } = paths;
      log(`Ed25519 sign only:                                   ${summary(signOnly)}`);
      log(`append + fsync of one checkpoint line alone:          ${summary(fileOnly)}`);
      log(`sign + publish (head, signature, DB row committed; file + proxy started): ${summary(d.publish)}  target p95 <= 5 ms: ${p(d.publish, 95) <= 5 ? "MET" : "NOT MET"}`);
      log(`  CPU time of this process meanwhile:                 ${summary(d.cpu)}`);
      log(`  the same through Prisma (the path before), interleaved: ${summary(o.publish)}; CPU ${summary(o.cpu)}`);
      log(`  ratio dedicated/Prisma: wall p50 ${(p(d.publish, 50) / p(o.publish, 50)).toFixed(2)}x, p95 ${(p(d.publish, 95) / p(o.publish, 95)).toFixed(2)}x; CPU p50 ${(p(d.cpu, 50) / p(o.cpu, 50)).toFixed(2)}x`);
      log(`... until the file line is durable (fsynced):        ${summary(d.durable)}`);
      log(`... until the proxy acknowledged (journal fsync):    ${summary(d.ack)}`);
      log(`  load average: ${os.loadavg().map((x) => x.toFixed(1)).join(" ")} on ${os.cpus().length} cores`);
    }

    if (PARTS.has("decisions")) {
      const env = await makeEnvironment(client, "production", "bench-prod");
      const { scopes } = await makeApi(client, env.id, ["read"], { name: "bench-api" });
      const reviewer = (await makeReviewer(client, ["reviewer"])).actor;
      const findings: string[] = [];
      for (let i = 0; i < DECISIONS + 20; i++) {
        const principal = await makePrincipal(client, { name: `bench-p-${i}` });
        const grant = await makeGrant(client, { principalId: principal.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(400) });
        const f = await client.finding.create({ data: { grantId: grant.id, rule: "dormant", severity: "low", riskScore: 10, evidence: {}, suggestion: "revoke" } });
        findings.push(f.id);
      }
      process.env.TOLLGATE_AUDIT_CHECKPOINT_DIR = path.join(tmp, "checkpoints-decisions");
      const off: number[] = [];
      const on: number[] = [];
      let timer: NodeJS.Timeout | null = null;
      let checkpointsMade = 0;
      const BLOCK = 20;
      for (let i = 0; i < findings.length; i++) {
        const phaseOn = Math.floor(i / BLOCK) % 2 === 1;
        if (phaseOn && !timer) {
          timer = setInterval(() => {
            void createCheckpoint(client, { signer, reason: "interval", proxies: [] }).then((r) => r?.created && checkpointsMade++);
          }, 100);
        } else if (!phaseOn && timer) {
          clearInterval(timer);
          timer = null;
        }
        const t0 = performance.now();
        await revokeGrant(reviewer, { findingId: findings[i] }, client);
        const ms = performance.now() - t0;
        if (i < 20) continue; // warm-up
        (phaseOn ? on : off).push(ms);
      }
      if (timer) clearInterval(timer);
      log(`decision (revokeGrant), checkpoints off:              ${summary(off)}`);
      log(`decision (revokeGrant), checkpoints every 100 ms:     ${summary(on)}  (${checkpointsMade} checkpoints made meanwhile)`);
      log(`ratio on/off: p50 ${(p(on, 50) / p(off, 50)).toFixed(2)}x, p95 ${(p(on, 95) / p(off, 95)).toFixed(2)}x`);
    }

    if (PARTS.has("verify")) {
      // A fresh table: the chain below starts at genesis.
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`);
      await c.query(`ALTER TABLE "AuditCheckpoint" DISABLE TRIGGER USER`);
      await c.query(`TRUNCATE "AuditEvent", "AuditCheckpoint", "Decision", "OutboxItem", "Finding", "Grant" CASCADE`);
      await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER USER`);
      await c.query(`ALTER TABLE "AuditCheckpoint" ENABLE TRIGGER USER`);
      const t0 = performance.now();
      let prev = GENESIS_HASH;
      let seq = 0;
      const start = Date.now() - EVENTS * 10;
      const batch = 50_000;
      for (let off = 0; off < EVENTS; off += batch) {
        const lines: string[] = [];
        for (let i = off; i < Math.min(EVENTS, off + batch); i++) {
          seq++;
          const content = { id: randomUUID(), at: new Date(start + i * 10), actor: `user${i % 50}@example.test`, action: i % 3 ? "decision.approve" : "auth.signin", target: `finding:${i}`, data: JSON.parse(canonicalJSON({ n: i, note: "bench", tags: ["a", "b"] })) as unknown };
          const hash = eventHash(prev, content);
          lines.push([seq, content.id, content.at.toISOString(), content.actor, content.action, content.target, canonicalJSON(content.data), prev, hash].map((v) => String(v).replace(/[\\\t\n]/g, (m) => (m === "\\" ? "\\\\" : m === "\t" ? "\\t" : "\\n"))).join("\t"));
          prev = hash;
        }
        await pipeline(Readable.from([lines.join("\n") + "\n"]), c.query(copyStreams.from(`COPY "AuditEvent" (seq, id, at, actor, action, target, data, "prevHash", hash) FROM STDIN`)));
      }
      await c.query(`SELECT setval(pg_get_serial_sequence('"AuditEvent"', 'seq'), $1)`, [seq]);
      await c.query(`ANALYZE "AuditEvent"`);
      await c.end();
      log(`wrote a valid chain of ${EVENTS.toLocaleString("en")} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const dir = path.join(tmp, "checkpoints-verify");
      await createCheckpoint(client, { signer, dir, reason: "manual", proxies: [] });

      const tc = performance.now();
      const cpu0 = process.cpuUsage();
      const chainOnly = await verifyAuditChain(client, { databaseUrl: url.toString() });
      const cpu = process.cpuUsage(cpu0);
      log(`  chain walk alone (binary COPY ranges): ${((performance.now() - tc) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU in this process (${chainOnly.checked} events)`);
      const tx = performance.now();
      await crossCheckAuditEvents(client);
      log(`  cross-checks alone: ${((performance.now() - tx) / 1000).toFixed(1)} s`);
      const la = os.loadavg();
      log(`  load average during the run: ${la.map((x) => x.toFixed(1)).join(" ")} on ${os.cpus().length} cores`);
      const t1 = performance.now();
      const file = await readCheckpointsFile(path.join(dir, CHECKPOINT_FILE));
      const result = await verifyAuditLog(client, {
        checkpoints: [...(await databaseCheckpoints(client)), ...file.checkpoints.map((checkpoint) => ({ source: "file", checkpoint }))],
        trustedKeys: [signer.publicKey],
        databaseUrl: url.toString(),
      });
      const inProcess = (performance.now() - t1) / 1000;
      if (!result.ok || result.chain.checked !== EVENTS) throw new Error(`verification did not pass: ${JSON.stringify(result.problems)}`);
      log(`verifyAuditLog in-process (chain + 2 checkpoints + cross-checks): ${inProcess.toFixed(1)} s for ${result.chain.checked.toLocaleString("en")} events (${Math.round(result.chain.checked / inProcess).toLocaleString("en")} events/s)`);

      // The acceptance command, as an operator runs it. Twice: the first run after a code change also bundles it.
      for (const run of ["first", "second"]) {
        const t2 = performance.now();
        const cli = spawnSync("npm", ["run", "-s", "audit:verify", "--", "--no-proxies"], {
          env: { ...process.env, DATABASE_URL: url.toString(), TOLLGATE_AUDIT_SIGNING_KEY_FILE: path.join(tmp, "key.pem"), TOLLGATE_AUDIT_CHECKPOINT_DIR: dir },
          encoding: "utf8",
        });
        const cliSeconds = (performance.now() - t2) / 1000;
        if (cli.status !== 0) throw new Error(`audit:verify exited ${cli.status}: ${cli.stdout}${cli.stderr}`);
        log(`npm run audit:verify (${run} run), wall clock: ${cliSeconds.toFixed(1)} s  target <= 30 s: ${cliSeconds <= 30 ? "MET" : "NOT MET"}; load ${os.loadavg()[0].toFixed(1)}`);
        log(`  its output: ${cli.stdout.trim().replace(/\n/g, " | ")}`);
      }
    }
  } finally {
    await client.$disconnect();
    await closeCheckpointConnections();
    await closeAdminPools();
    if (proxy) proxy.child.kill("SIGTERM");
    if (values.keep) {
      log(`kept: DATABASE_URL=${url} TOLLGATE_AUDIT_SIGNING_KEY_FILE=${path.join(tmp, "key.pem")} TOLLGATE_AUDIT_CHECKPOINT_DIR=${path.join(tmp, "checkpoints-verify")}`);
    } else {
      await serverSql(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
