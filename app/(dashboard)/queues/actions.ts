"use server";
import { z } from "zod";
import { action } from "@/lib/action";
import { runAnalysis } from "@/lib/analysis";
import { retryEnforcement, retryInput } from "@/lib/enforcement/retry";
import {
  approveFinding,
  approveInput,
  bulkApprove,
  bulkApproveInput,
  bulkReduce,
  bulkReduceInput,
  bulkRevoke,
  bulkRevokeInput,
  confirmDecision,
  confirmInput,
  reduceGrant,
  reduceInput,
  revokeGrant,
  revokeInput,
} from "@/lib/review";

// Thin wrappers (lib/action.ts): session → zod → one lib call, which authorizes.
// Reads the queue polls (detail, decision states, analysis progress) are GET
// route handlers under app/api/ui/, not actions.
export const approveAction = action(approveInput, (input, { actor }) => approveFinding(actor, input));
export const revokeAction = action(revokeInput, (input, { actor }) => revokeGrant(actor, input));
export const reduceAction = action(reduceInput, (input, { actor }) => reduceGrant(actor, input));
export const bulkApproveAction = action(bulkApproveInput, (input, { actor }) => bulkApprove(actor, input));
export const bulkRevokeAction = action(bulkRevokeInput, (input, { actor }) => bulkRevoke(actor, input));
export const bulkReduceAction = action(bulkReduceInput, (input, { actor }) => bulkReduce(actor, input));
export const confirmAction = action(confirmInput, (input, { actor }) => confirmDecision(actor, input));
export const retryAction = action(retryInput, (input, { actor }) => retryEnforcement(actor, input));

/** Starts a run and returns at once; the page polls GET /api/ui/analysis for progress. */
export const runAnalysisAction = action(z.undefined(), async (_input, { actor }) => {
  const started = runAnalysis(actor);
  // Surface immediate refusals (forbidden, already running) to the click; the rest runs on.
  const early = await Promise.race([started.then(() => "done" as const), new Promise<"running">((r) => setTimeout(() => r("running"), 300))]);
  started.catch((e) => console.error("[queues] analysis run failed", e));
  return { state: early };
});
