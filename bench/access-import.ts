/**
 * Access import benchmark:
 *   `npx tsx bench/access-import.ts [--consumers 10000] [--runs 3]` (Kong), or
 *   `npx tsx bench/access-import.ts --format ndjson [--grants 1000000] [--principals 50000] [--credentials 100000] [--runs 1]`
 *
 * NDJSON: writes the file to a temporary folder first (streamed, never held), then on a fresh database streams it into
 * applyAccessImport (no size limit) and plans and applies it again (the no-op re-import), each step in a process of
 * its own, as `npm run import:access` runs one import per process.
 * Targets (issue 15): 1,000,000 grants with 50,000 principals and 100,000 credentials imported into an empty database
 * in ≤ 60 s, its no-op re-plan ≤ 15 s, importer RSS ≤ 500 MB. Every run prints the load average and the importer's
 * CPU time, since the machine is shared.
 *
 * On a fresh database of its own (real Postgres at DATABASE_URL's server, else 127.0.0.1:5432), per run:
 * 1. generates a Kong declarative file (_format_version 3.0) with N consumers (one key each, nested for half and
 *    top-level for the other half; 1-2 ACL groups each, nested or top-level), 20 services with key-auth + acl
 *    allow/deny, one public and one request-terminated route;
 * 2. times planAccessImport and applyAccessImport into an empty environment (one transaction), then the plan and
 *    apply of the unchanged file (the no-op re-import);
 * and reports medians with the importer's peak RSS. Target (issue 15): 10,000 consumers ≤ 10 s.
 */
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import { systemActor } from "@/lib/auth/actor";
import { createDb } from "@/lib/db";
import { applyMigrationsSql } from "@/lib/db/migrate";
import { applyAccessImport, planAccessImport } from "@/lib/access-import";
import { onImportPhase } from "@/lib/access-import/phases";
import { benchDatabase, processCpuSeconds, serverSql, runBench } from "./support";

const { values } = parseArgs({
  options: {
    format: { type: "string", default: "kong" },
    consumers: { type: "string", default: "10000" },
    grants: { type: "string", default: "1000000" },
    principals: { type: "string", default: "50000" },
    credentials: { type: "string", default: "100000" },
    runs: { type: "string", default: "3" },
    // Internal: one NDJSON step in a process of its own (see mainNdjson).
    step: { type: "string" },
    url: { type: "string" },
    file: { type: "string" },
  },
});
const N = Number(values.consumers);
const RUNS = Math.max(1, Number(values.runs));
const GROUPS = ["gold", "silver", "bronze", "partners", "internal", "admins"];

export function generateKong(n: number): string {
  const consumers: Record<string, unknown>[] = [];
  const keyauth_credentials: Record<string, unknown>[] = [];
  const acls: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const username = `consumer-${i}`;
    const key = `key-${i}-${(i * 2654435761) % 4294967296}`;
    const g1 = GROUPS[i % GROUPS.length];
    const g2 = GROUPS[(i * 7 + 3) % GROUPS.length];
    if (i % 2 === 0) {
      consumers.push({ username, custom_id: `cid-${i}`, keyauth_credentials: [{ key }], acls: [{ group: g1 }] });
      acls.push({ consumer: username, group: g2 });
    } else {
      consumers.push({ username, acls: [{ group: g1 }, ...(g2 !== g1 ? [{ group: g2 }] : [])] });
      keyauth_credentials.push({ consumer: username, key });
    }
  }
  const services: Record<string, unknown>[] = [];
  for (let s = 0; s < 20; s++) {
    const acl = s % 5 === 4 ? { deny: ["partners"] } : { allow: [GROUPS[s % GROUPS.length], GROUPS[(s + 1) % GROUPS.length]] };
    services.push({
      name: `svc-${s}`,
      url: `http://upstream-${s}.internal:8080/api`,
      routes: [{ name: `svc-${s}-read`, paths: [`/svc-${s}`], methods: ["GET"] }, { name: `svc-${s}-write`, paths: [`/svc-${s}`], methods: ["POST", "PUT", "DELETE"] }],
      plugins: [{ name: "key-auth" }, { name: "acl", config: acl }, { name: "rate-limiting", config: { minute: 100 } }],
    });
  }
  services.push({ name: "health", url: "http://health.internal", routes: [{ name: "health", paths: ["/health"] }] });
  services.push({ name: "legacy", url: "http://legacy.internal", routes: [{ name: "legacy", paths: ["/legacy"], plugins: [{ name: "request-termination", config: { status_code: 410 } }] }] });
  return stringify({ _format_version: "3.0", services, consumers, keyauth_credentials, acls });
}

/**
 * The NDJSON benchmark file: 10 APIs with 10 scopes and 10 endpoints each, `principals` principals, `credentials`
 * keys spread over them (half plaintext, half sha256 + prefix), and `grants` grants, each principal holding distinct
 * scopes. Written line by line to `file`.
 */
export async function writeNdjson(file: string, o: { principals: number; credentials: number; grants: number }): Promise<void> {
  const out = createWriteStream(file);
  const write = async (line: unknown) => {
    if (!out.write(JSON.stringify(line) + "\n")) await once(out, "drain");
  };
  const APIS = 10;
  const SCOPES = 10;
  for (let a = 0; a < APIS; a++) {
    await write({ kind: "api", id: `api-${a}`, name: `Bench API ${a}`, baseUrl: `http://api-${a}.internal:8080` });
    for (let s = 0; s < SCOPES; s++) await write({ kind: "scope", api: `api-${a}`, name: `scope-${s}`, level: s === 9 ? "admin" : s % 2 ? "write" : "read" });
    for (let e = 0; e < 10; e++) await write({ kind: "endpoint", api: `api-${a}`, method: e % 2 ? "POST" : "GET", path: `/r${e}/{id}`, scopes: [`scope-${e}`] });
  }
  for (let p = 0; p < o.principals; p++) await write({ kind: "principal", id: `p-${p}`, name: `Principal ${p}`, ...(p % 10 === 0 ? { tags: ["bench"] } : {}) });
  for (let c = 0; c < o.credentials; c++) {
    const principal = `p-${c % o.principals}`;
    const expiresAt = c % 3 === 0 ? null : "2027-06-30T00:00:00Z";
    if (c % 2 === 0) await write({ kind: "credential", principal, key: `bench-key-${c}-${(c * 2654435761) % 4294967296}`, expiresAt });
    else await write({ kind: "credential", principal, sha256: createHash("sha256").update(`hashed-${c}`).digest("hex"), prefix: `bk_${c}`, expiresAt });
  }
  const perPrincipal = Math.ceil(o.grants / o.principals);
  if (perPrincipal > APIS * SCOPES) throw new Error("more grants per principal than scopes");
  let n = 0;
  for (let p = 0; p < o.principals && n < o.grants; p++) {
    for (let k = 0; k < perPrincipal && n < o.grants; k++, n++) {
      const s = (p * 7 + k * 13) % (APIS * SCOPES); // distinct for k < 100 (13 is prime to 100)
      await write({ kind: "grant", principal: `p-${p}`, api: `api-${Math.floor(s / SCOPES)}`, scope: `scope-${s % SCOPES}`, ...(k % 4 === 0 ? { expiresAt: "2027-01-31T00:00:00Z" } : {}) });
    }
  }
  out.end();
  await once(out, "finish");
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * CPU seconds used by the database's backends for this benchmark's database (from /proc: Postgres runs on this
 * machine). Sampled every 100 ms, keeping each backend's highest reading, so a connection the pool closes keeps what
 * it used up to its last sample. NaN when Postgres is elsewhere.
 */
function dbCpuMeter(client: ReturnType<typeof createDb>) {
  const start = new Map<number, number>();
  const last = new Map<number, number>();
  // Remote only when no backend's /proc entry was ever readable: one that exits between the query and the read
  // (the pool closing an idle connection) is not a reason to drop every reading.
  let local = false;
  const sample = async () => {
    const rows = await client.$queryRaw<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`;
    for (const { pid } of rows) {
      try {
        last.set(pid, processCpuSeconds(pid));
        local = true;
      } catch {
        // gone since the query, or not on this machine
      }
    }
  };
  let timer: NodeJS.Timeout | null = null;
  return {
    async start() {
      await sample();
      for (const [pid, t] of last) start.set(pid, t);
      timer = setInterval(() => void sample().catch(() => undefined), 100);
    },
    async stop(): Promise<number> {
      if (timer) clearInterval(timer);
      await sample();
      if (!local) return NaN;
      let seconds = 0;
      for (const [pid, t] of last) seconds += t - (start.get(pid) ?? 0);
      return seconds;
    },
  };
}

/** A fresh migrated database with a "production" environment for one run, dropped afterwards. */
async function withBenchDatabase(fn: (client: ReturnType<typeof createDb>, url: string) => Promise<void>): Promise<void> {
  const { server, name, url } = benchDatabase();
  await serverSql(server, `CREATE DATABASE ${name}`);
  const client = createDb(url.toString(), 4);
  try {
    await applyMigrationsSql(url.toString());
    await client.environment.create({ data: { name: "production", tier: "production" } });
    await fn(client, url.toString());
  } finally {
    await client.$disconnect();
    await serverSql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(" ");
const cpu = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return `${((c.user + c.system) / 1e6).toFixed(1)} s CPU`;
};

type Step = "apply" | "plan" | "reapply";
interface StepResult { wall: number; cpu: number; peakRss: number; phases: string[]; created?: string; empty?: boolean; applied?: boolean }

/**
 * One step of the NDJSON run, in this process (started by mainNdjson for that step alone): the import on its own
 * process, as `npm run import:access` runs it, so its peak RSS is the importer's and not what earlier steps left in
 * the same heap. Prints one line `STEP {json}` for the parent.
 */
async function childStep(step: Step, url: string, file: string): Promise<void> {
  const client = createDb(url, 4);
  let peakRss = 0;
  let phaseRss = 0;
  const sample = setInterval(() => {
    const rss = process.memoryUsage.rss();
    peakRss = Math.max(peakRss, rss);
    phaseRss = Math.max(phaseRss, rss);
  }, 50);
  try {
    const input = { format: "ndjson" as const, environment: "production", file: createReadStream(file), filename: "access.ndjson" };
    const opts = { client, maxBytes: Number.MAX_SAFE_INTEGER };
    const actor = systemActor("bench");
    const phases: string[] = [];
    // Each phase's wall time and the peak RSS sampled during it (at least the RSS when it ended).
    onImportPhase((phase, ms) => {
      // BENCH_GC=1 (the child runs with --expose-gc): collect first, so "heap" is what the import keeps.
      if (process.env.BENCH_GC) (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      phases.push(`${phase} ${s(ms)} [${Math.round(Math.max(phaseRss, m.rss) / 2 ** 20)} MB; heap ${Math.round(m.heapUsed / 2 ** 20)} of ${Math.round(m.heapTotal / 2 ** 20)}, external ${Math.round(m.external / 2 ** 20)} MB]`);
      phaseRss = 0;
    });
    peakRss = process.memoryUsage.rss();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out: Partial<StepResult> = {};
    if (step === "plan") out.empty = (await planAccessImport(actor, input, opts)).empty;
    else {
      const r = await applyAccessImport(actor, input, opts);
      out.applied = r.applied;
      out.created = Object.entries(r.written).map(([k, v]) => `${k} ${v.created}`).join(", ");
    }
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const result: StepResult = { ...out, wall, cpu: (c.user + c.system) / 1e6, peakRss: Math.max(peakRss, process.memoryUsage.rss()), phases };
    console.log(`STEP ${JSON.stringify(result)}`);
  } finally {
    clearInterval(sample);
    await client.$disconnect();
  }
}

/** The Node flags `npm run import:access` runs with (package.json), so the step runs as the command does. */
function importerFlags(): string[] {
  const script = (JSON.parse(readFileSync(path.join(process.cwd(), "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts["import:access"];
  return script.split(/\s+/).filter((a) => a.startsWith("--"));
}

/**
 * Runs one step in a child process (`node <the command's flags> [--expose-gc] --import tsx` this file) and returns
 * what it printed. BENCH_NODE_FLAGS replaces the command's flags (to compare V8 settings).
 */
async function runStep(step: Step, url: string, file: string): Promise<StepResult> {
  const flags = process.env.BENCH_NODE_FLAGS !== undefined ? process.env.BENCH_NODE_FLAGS.split(" ").filter(Boolean) : importerFlags();
  const args = [...(process.env.BENCH_GC ? ["--expose-gc"] : []), ...flags, "--import", "tsx", process.argv[1], "--step", step, "--url", url, "--file", file];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  const line = stdout.split("\n").find((l) => l.startsWith("STEP "));
  if (code !== 0 || !line) throw new Error(`step ${step} failed (exit ${code}):\n${stdout}`);
  return JSON.parse(line.slice(5)) as StepResult;
}

async function mainNdjson() {
  const o = { principals: Number(values.principals), credentials: Number(values.credentials), grants: Number(values.grants) };
  const dir = mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-ndjson-"));
  const file = path.join(dir, "access.ndjson");
  try {
    const t = performance.now();
    await writeNdjson(file, o);
    console.log(`[access-import ndjson] file: ${o.principals} principals, ${o.credentials} credentials, ${o.grants} grants, ${(statSync(file).size / 1e6).toFixed(1)} MB (written in ${s(performance.now() - t)})`);
    console.log(`[access-import ndjson] each step runs in a process of its own, as \`npm run import:access\` does (node flags: ${(process.env.BENCH_NODE_FLAGS ?? importerFlags().join(" ")) || "none"}); times and RSS are the import's, not the process start`);
    for (let run = 0; run < RUNS; run++) {
      await withBenchDatabase(async (client, url) => {
        const step = async (label: string, which: Step): Promise<StepResult> => {
          const meter = dbCpuMeter(client);
          await meter.start();
          const r = await runStep(which, url, file);
          const dbCpu = await meter.stop();
          console.log(`[access-import ndjson] ${label}: ${s(r.wall)}, importer ${r.cpu.toFixed(1)} s CPU, database ${dbCpu.toFixed(1)} s CPU, peak RSS ${Math.round(r.peakRss / 2 ** 20)} MB, load ${load()}`);
          console.log(`    phases: ${r.phases.join("; ")}`);
          return r;
        };
        const applied = await step("import into an empty database (apply)", "apply");
        console.log(`[access-import ndjson] created: ${applied.created}`);
        const again = await step("no-op re-import: plan", "plan");
        if (!again.empty) throw new Error("re-plan of the same file is not empty");
        const noop = await step("no-op re-import: apply", "reapply");
        if (noop.applied) throw new Error("re-apply of the same file wrote something");
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  if (values.step) return childStep(values.step as Step, values.url!, values.file!);
  if (values.format === "ndjson") return mainNdjson();
  const file = Buffer.from(generateKong(N));
  console.log(`[access-import] Kong file: ${N} consumers, ${(file.length / 1e6).toFixed(1)} MB`);
  const times = { plan: [] as number[], apply: [] as number[], replan: [] as number[], reapply: [] as number[] };
  let peakRss = 0;
  const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  let counts = "";
  const c0 = process.cpuUsage();
  const phases = new Map<string, number[]>();
  onImportPhase((phase, ms) => phases.set(phase, [...(phases.get(phase) ?? []), ms]));
  console.log(`[access-import] load before: ${load()}`);
  for (let run = 0; run < RUNS; run++) {
    await withBenchDatabase(async (client) => {
      const input = { format: "kong" as const, environment: "production", file, filename: "kong.yml" };
      const actor = systemActor("bench");
      let t = performance.now();
      const plan = await planAccessImport(actor, input, { client });
      times.plan.push(performance.now() - t);
      t = performance.now();
      const applied = await applyAccessImport(actor, { ...input, expectedPlanHash: plan.planHash }, { client });
      times.apply.push(performance.now() - t);
      counts = Object.entries(applied.written).map(([k, v]) => `${k} ${v.created}`).join(", ");
      t = performance.now();
      const again = await planAccessImport(actor, input, { client });
      times.replan.push(performance.now() - t);
      if (!again.empty) throw new Error("re-plan of the same file is not empty");
      t = performance.now();
      const noop = await applyAccessImport(actor, input, { client });
      times.reapply.push(performance.now() - t);
      if (noop.applied) throw new Error("re-apply of the same file wrote something");
    });
  }
  clearInterval(sample);
  onImportPhase(null);
  console.log(`[access-import] created: ${counts}`);
  console.log(`[access-import] importer ${cpu(c0)} over ${RUNS} run(s) (file generation not included); load after: ${load()}`);
  console.log(`[access-import] phases (medians over the 4 calls x runs): ${[...phases].map(([k, v]) => `${k} ${s(median(v))}`).join("; ")}`);
  console.log(`[access-import] ${RUNS} runs, medians: plan ${s(median(times.plan))}, apply (plan again + write) ${s(median(times.apply))}, plan+apply ${s(median(times.plan) + median(times.apply))}`);
  console.log(`[access-import] no-op re-import: plan ${s(median(times.replan))}, apply ${s(median(times.reapply))}; importer peak RSS ${Math.round(peakRss / 2 ** 20)} MB`);
}

runBench(main);
