import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { conflict, fromZod } from "@/lib/errors";
import type { FindingRule } from "@/lib/generated/prisma/client";
import { loadSettings, type Settings } from "@/lib/settings";
import { environmentParams, type EnvironmentParams } from "./feed";
import { RULES, type RuleDefinition } from "./rules";
import { ruleStatements, SCRATCH, USAGE_PASS } from "./statement";
import { recordFindingDailyCounts } from "./daily-counts";

export interface RuleStats {
  candidates: number;
  opened: number;
  updated: number;
  closed: number;
  ms: number;
}

export interface AnalysisStats {
  rules: Partial<Record<FindingRule, RuleStats>>;
  /** The usage pass shared by the usage-based rules (not part of any rule's ms). */
  usagePass?: { unusedGrants: number; usedBundles: number; ms: number };
  /** VACUUM (ANALYZE) of "Finding" after a run that wrote findings. */
  vacuumMs?: number;
  /** Environments whose usage-based rules were not judged, and why. */
  heldBack: { environmentId: string; environment: string; rules: FindingRule[]; reason: string }[];
  settings: Settings;
  totalMs: number;
}

type Exec = (sql: string) => Promise<number>;

/** One rule inside the group's transaction: candidates into the scratch table, then the difference. */
async function runRule(exec: Exec, def: RuleDefinition): Promise<RuleStats> {
  const started = performance.now();
  const st = ruleStatements(def);
  let candidates = 0;
  for (const q of st.candidates) candidates += await exec(q);
  const updated = await exec(st.update);
  const opened = await exec(st.insert);
  const closed = await exec(st.close);
  return { candidates, opened, updated, closed, ms: Math.round(performance.now() - started) };
}

/**
 * Runs some rules in one transaction (the caller's, or one of its own): the
 * scratch tables live for that transaction only. When the group holds a
 * usage-based rule, the usage pass runs first and those rules share it.
 */
async function runGroup(
  client: PrismaClient | Tx,
  defs: RuleDefinition[],
  now: Date,
  envs: EnvironmentParams[],
  settings: Settings,
  principalId: string | null,
): Promise<{ rules: Partial<Record<FindingRule, RuleStats>>; usagePass?: AnalysisStats["usagePass"] }> {
  const envJson = JSON.stringify(envs.map((e) => ({ id: e.id, window_days: e.windowDays, held_back: e.heldBack })));
  const params = [now, envJson, settings.graceDays, settings.credentialRotationDays, principalId] as const;
  const body = async (tx: Tx, ownTx: boolean) => {
    // Statements with placeholders get all five parameters (see PARAMS in statement.ts); DDL and ANALYZE none.
    const exec: Exec = (sql) => (sql.includes("$1") ? tx.$executeRawUnsafe(sql, ...params) : tx.$executeRawUnsafe(sql));
    // Whole-inventory statements hash and group hundreds of thousands of rows: give them
    // memory for this transaction only, rather than spilling to disk.
    if (ownTx) await exec(`SET LOCAL work_mem = '128MB'`);
    for (const q of SCRATCH.create) await exec(q);
    const out: Awaited<ReturnType<typeof runGroup>> = { rules: {} };
    if (defs.some((d) => d.usageBased)) {
      const started = performance.now();
      const counts: number[] = [];
      for (const q of USAGE_PASS) counts.push(await exec(q));
      out.usagePass = { unusedGrants: counts[1], usedBundles: counts[4], ms: Math.round(performance.now() - started) };
    }
    for (const def of defs) out.rules[def.rule] = await runRule(exec, def);
    await exec(SCRATCH.drop);
    return out;
  };
  if ("$transaction" in client) {
    return client.$transaction((tx) => body(tx, true), { timeout: 30 * 60_000, maxWait: 30_000 });
  }
  return body(client, false);
}
const runOptions = z
  .object({
    rules: z.array(z.enum(RULES.map((r) => r.rule) as [FindingRule, ...FindingRule[]])).min(1).optional(),
    now: z.date().optional(),
  })
  .strict();

/**
 * A live run writes a heartbeat every HEARTBEAT_MS (migration 0011). A "running" row
 * whose heartbeat is older than DEAD_AFTER_MS belongs to a run that died — process
 * killed, or the database went away mid-run so not even "failed" could be written —
 * and no longer blocks a new run (it used to block one for 30 minutes). The margin is
 * wide on purpose: on the embedded server a heartbeat waits behind the run's own open
 * transaction (one shared backend), and a busy machine delays timers.
 */
export const HEARTBEAT_MS = 5_000;
export const DEAD_AFTER_MS = 120_000;

/**
 * Runs every rule over the whole inventory, set-based (a few statements per rule),
 * recording progress and per-rule timings on an AnalysisRun row as it goes
 * (the /queues page polls it). Only one run at a time: a second caller gets a
 * conflict naming the running one.
 */
export async function runAnalysis(
  actor: Actor,
  opts: { rules?: FindingRule[]; now?: Date } = {},
  client: PrismaClient = db(),
): Promise<{ runId: string; stats: AnalysisStats }> {
  authorize(actor, "analysis:run");
  const parsed = runOptions.safeParse(opts);
  if (!parsed.success) throw fromZod(parsed.error);
  const now = parsed.data.now ?? new Date();
  const selected = RULES.filter((r) => !parsed.data.rules || parsed.data.rules.includes(r.rule));

  await failDeadRuns(client);
  let runId: string;
  try {
    runId = (await client.analysisRun.create({ data: { status: "running", progress: 0 } })).id;
  } catch (e) {
    // AnalysisRun_one_running (migration 0004_review_loop) allows a single running row.
    // Through the pg adapter the error names the index's expression, not the index,
    // so match the unique-violation code too (the row's only other key is a fresh uuid).
    const code = (e as { code?: string }).code;
    if (code === "P2002" || String(e).includes("AnalysisRun_one_running")) throw conflict("An analysis run is already in progress");
    throw e;
  }

  const started = performance.now();
  const heartbeat = startHeartbeat(client, runId);
  try {
    const settings = await loadSettings(client);
    const envs = await environmentParams(client, settings, now);
    const stats: AnalysisStats = {
      rules: {},
      heldBack: envs
        .filter((e) => e.heldBack)
        .map((e) => ({
          environmentId: e.id,
          environment: e.name,
          rules: RULES.filter((r) => r.usageBased).map((r) => r.rule),
          reason: `Held back because ${e.heldBackReason}`,
        })),
      settings,
      totalMs: 0,
    };
    // The usage-based rules share one transaction (and the usage pass); every other rule
    // has its own. Progress is written between transactions: through the embedded server's
    // single backend, a write from another connection would wait for an open transaction.
    const usage = selected.filter((d) => d.usageBased);
    const groups = [...(usage.length ? [usage] : []), ...selected.filter((d) => !d.usageBased).map((d) => [d])];
    let done = 0;
    for (const group of groups) {
      const result = await runGroup(client, group, now, envs, settings, null);
      Object.assign(stats.rules, result.rules);
      if (result.usagePass) stats.usagePass = result.usagePass;
      done += group.length;
      stats.totalMs = Math.round(performance.now() - started);
      await client.analysisRun.update({
        where: { id: runId },
        data: { progress: Math.round((done / selected.length) * 100), stats: stats as object },
      });
    }
    // After bulk changes, fresh statistics and visibility map for "Finding": the queue's
    // index-only scans and the next run's plans depend on them, and autovacuum may come
    // much later. Nothing written, nothing to do (a re-run on unchanged data stays cheap).
    const writes = Object.values(stats.rules).reduce((n, r) => n + r!.opened + r!.updated + r!.closed, 0);
    if (writes > 0) {
      const t = performance.now();
      await client.$executeRawUnsafe(`VACUUM (ANALYZE) "Finding"`);
      stats.vacuumMs = Math.round(performance.now() - t);
      stats.totalMs = Math.round(performance.now() - started);
    }
    // The overview's daily trend (lib/analysis/daily-counts.ts): today's counts, written by every run.
    await recordFindingDailyCounts(client, now);
    await client.analysisRun.update({
      where: { id: runId },
      data: { status: "succeeded", finishedAt: new Date(), progress: 100, stats: stats as object },
    });
    return { runId, stats };
  } catch (e) {
    // The database may be what failed: keep trying to say so in the background, so the row
    // reads "failed" as soon as it is back (the heartbeat covers a process that dies meanwhile).
    void recordRunFailure(client, runId, e instanceof Error ? e.message.slice(0, 2000) : String(e));
    throw e;
  } finally {
    heartbeat.stop();
  }
}

/** Marks runs whose heartbeat stopped as failed, so they no longer hold the single "running" slot. */
export async function failDeadRuns(client: PrismaClient, now = new Date()): Promise<number> {
  const { count } = await client.analysisRun.updateMany({
    where: { status: "running", heartbeatAt: { lt: new Date(now.getTime() - DEAD_AFTER_MS) } },
    data: { status: "failed", error: `abandoned: no heartbeat for ${DEAD_AFTER_MS / 1000} s (the process stopped or lost its database connection)`, finishedAt: now },
  });
  return count;
}

function startHeartbeat(client: PrismaClient, runId: string): { stop(): void } {
  let beating = false;
  const timer = setInterval(() => {
    if (beating) return; // the previous beat is still waiting (busy database): one at a time
    beating = true;
    client.analysisRun
      .updateMany({ where: { id: runId, status: "running" }, data: { heartbeatAt: new Date() } })
      .catch(() => undefined) // a missed beat is what the heartbeat is for
      .finally(() => (beating = false));
  }, HEARTBEAT_MS);
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}

/** Writes "failed" for a run, retrying with backoff for up to DEAD_AFTER_MS while the database is unreachable. */
async function recordRunFailure(client: PrismaClient, runId: string, error: string): Promise<void> {
  const giveUpAt = Date.now() + DEAD_AFTER_MS;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      await client.analysisRun.updateMany({ where: { id: runId, status: "running" }, data: { status: "failed", finishedAt: new Date(), error } });
      return;
    } catch (e) {
      if (Date.now() + delay > giveUpAt) {
        console.error(`[analysis] could not mark run ${runId} failed; its stale heartbeat will:`, (e as Error).message);
        return;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Runs the orphan rule for one principal at once, inside the caller's
 * transaction (SCIM deprovisioning calls it so the queue shows the orphaned
 * grants immediately, not at the next scheduled run).
 */
export async function analyzePrincipal(tx: Tx, principalId: string, now = new Date()): Promise<RuleStats> {
  z.uuid().parse(principalId);
  const settings = await loadSettings(tx);
  const envs = await environmentParams(tx, settings, now);
  const orphan = RULES.find((r) => r.rule === "orphaned")!;
  return (await runGroup(tx, [orphan], now, envs, settings, principalId)).rules.orphaned!;
}

export async function latestAnalysisRun(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "findings:read");
  return client.analysisRun.findFirst({ orderBy: { startedAt: "desc" } });
}
