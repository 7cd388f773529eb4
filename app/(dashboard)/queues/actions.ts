"use server";
import { currentActor } from "@/lib/auth/session";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "@/lib/db/unavailable";
import { AppError } from "@/lib/errors";
import { latestAnalysisRun, runAnalysis } from "@/lib/analysis";
import { retryEnforcement } from "@/lib/enforcement/retry";
import {
  approveFinding,
  bulkApprove,
  bulkReduce,
  bulkRevoke,
  claimFinding,
  confirmDecision,
  decisionStates,
  getFindingDetail,
  reduceGrant,
  revokeGrant,
} from "@/lib/review";

// Thin wrappers: session → one lib call (which validates with zod and
// authorizes). Errors the user can act on come back as { ok: false }.
export type ActionResult<T> = { ok: true; data: T } | { ok: false; error: string; field?: string; code: string };

async function run<T>(fn: () => Promise<T>): Promise<ActionResult<T>> {
  try {
    return { ok: true, data: await fn() };
  } catch (e) {
    if (e instanceof AppError) return { ok: false, error: e.message, field: e.field, code: e.code };
    const logId = Math.random().toString(36).slice(2, 10);
    if (isDatabaseUnavailable(e)) {
      console.error(`[queues] database unavailable (log id ${logId})`, (e as Error).message);
      return { ok: false, error: `${DATABASE_UNAVAILABLE_MESSAGE} (log id ${logId})`, code: "unavailable" };
    }
    console.error(`[queues] action failed (log id ${logId})`, e);
    return { ok: false, error: `Something went wrong (log id ${logId})`, code: "internal" };
  }
}

export async function approveAction(input: unknown) {
  return run(async () => approveFinding(await currentActor(), input));
}
export async function revokeAction(input: unknown) {
  return run(async () => revokeGrant(await currentActor(), input));
}
export async function reduceAction(input: unknown) {
  return run(async () => reduceGrant(await currentActor(), input));
}
export async function bulkApproveAction(input: unknown) {
  return run(async () => bulkApprove(await currentActor(), input));
}
export async function bulkRevokeAction(input: unknown) {
  return run(async () => bulkRevoke(await currentActor(), input));
}
export async function bulkReduceAction(input: unknown) {
  return run(async () => bulkReduce(await currentActor(), input));
}
export async function claimAction(input: unknown) {
  return run(async () => claimFinding(await currentActor(), input));
}
export async function confirmAction(input: unknown) {
  return run(async () => confirmDecision(await currentActor(), input));
}
export async function retryAction(input: unknown) {
  return run(async () => retryEnforcement(await currentActor(), input));
}
export async function detailAction(findingId: string) {
  return run(async () => getFindingDetail(await currentActor(), String(findingId)));
}
export async function decisionStatesAction(decisionIds: string[]) {
  return run(async () => decisionStates(await currentActor(), Array.isArray(decisionIds) ? decisionIds.map(String) : []));
}

/** Starts a run and returns at once; the page polls analysisProgressAction. */
export async function runAnalysisAction() {
  return run(async () => {
    const actor = await currentActor();
    const started = runAnalysis(actor);
    // Surface immediate refusals (forbidden, already running) to the click; the rest runs on.
    const early = await Promise.race([started.then(() => "done" as const), new Promise<"running">((r) => setTimeout(() => r("running"), 300))]);
    started.catch((e) => console.error("[queues] analysis run failed", e));
    return { state: early };
  });
}
export async function analysisProgressAction() {
  return run(async () => latestAnalysisRun(await currentActor()));
}
