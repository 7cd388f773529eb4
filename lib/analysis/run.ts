import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { conflict, fromZod } from "@/lib/errors";
import type { FindingRule } from "@/lib/generated/prisma/client";
import { loadSettings, type Settings } from "@/lib/settings";
import { environmentParams, type EnvironmentParams } from "./feed";
import { RULES, type RuleDefinition } from "./rules";
import { ruleStatement } from "./statement";

export interface RuleStats {
  candidates: number;
  opened: number;
  updated: number;
  closed: number;
  ms: number;
}

export interface AnalysisStats {
  rules: Partial<Record<FindingRule, RuleStats>>;
  /** Environments whose usage-based rules were not judged, and why. */
  heldBack: { environmentId: string; environment: string; rules: FindingRule[]; reason: string }[];
  settings: Settings;
  totalMs: number;
}

async function runRule(
  client: PrismaClient | Tx,
  def: RuleDefinition,
  now: Date,
  envs: EnvironmentParams[],
  settings: Settings,
  principalId: string | null,
): Promise<RuleStats> {
  const started = performance.now();
  const envJson = JSON.stringify(envs.map((e) => ({ id: e.id, window_days: e.windowDays, held_back: e.heldBack })));
  const params = [now, envJson, settings.graceDays, settings.credentialRotationDays, principalId] as const;
  type Counts = { candidates: number; opened: number; updated: number; closed: number };
  let row: Counts;
  if ("$transaction" in client) {
    // Whole-inventory statements group and sort hundreds of thousands of rows: give
    // them memory for this statement only, rather than spilling to disk.
    [row] = await client.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(`SET LOCAL work_mem = '128MB'`);
        return tx.$queryRawUnsafe<Counts[]>(ruleStatement(def), ...params);
      },
      { timeout: 30 * 60_000, maxWait: 30_000 },
    );
  } else {
    [row] = await client.$queryRawUnsafe<Counts[]>(ruleStatement(def), ...params);
  }
  return { ...row, ms: Math.round(performance.now() - started) };
}

const runOptions = z
  .object({
    rules: z.array(z.enum(RULES.map((r) => r.rule) as [FindingRule, ...FindingRule[]])).min(1).optional(),
    now: z.date().optional(),
  })
  .strict();

/** Runs that did not finish within this time are considered crashed and no longer block a new run. */
const STALE_RUN_MS = 30 * 60_000;

/**
 * Runs every rule over the whole inventory, one set-based statement per rule,
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

  await client.analysisRun.updateMany({
    where: { status: "running", startedAt: { lt: new Date(Date.now() - STALE_RUN_MS) } },
    data: { status: "failed", error: "abandoned (did not finish)", finishedAt: new Date() },
  });
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
    for (const [i, def] of selected.entries()) {
      stats.rules[def.rule] = await runRule(client, def, now, envs, settings, null);
      stats.totalMs = Math.round(performance.now() - started);
      await client.analysisRun.update({
        where: { id: runId },
        data: { progress: Math.round(((i + 1) / selected.length) * 100), stats: stats as object },
      });
    }
    await client.analysisRun.update({
      where: { id: runId },
      data: { status: "succeeded", finishedAt: new Date(), progress: 100, stats: stats as object },
    });
    return { runId, stats };
  } catch (e) {
    await client.analysisRun.update({
      where: { id: runId },
      data: { status: "failed", finishedAt: new Date(), error: e instanceof Error ? e.message.slice(0, 2000) : String(e) },
    });
    throw e;
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
  return runRule(tx, orphan, now, envs, settings, principalId);
}

export async function latestAnalysisRun(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "findings:read");
  return client.analysisRun.findFirst({ orderBy: { startedAt: "desc" } });
}
