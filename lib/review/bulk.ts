import type { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { AppError, fromZod } from "@/lib/errors";
import { approveFinding, reduceGrant, revokeGrant, type DecisionResult } from "./decide";
import { bulkApproveInput, bulkReduceInput, bulkRevokeInput } from "./schemas";

export interface BulkResult {
  decided: DecisionResult[];
  /** Findings that could not be decided, with the reason (e.g. already decided by someone else). */
  failed: { findingId: string; code: string; message: string }[];
}

/**
 * Bulk decisions run the single-finding function once per finding, each in
 * its own transaction: one finding decided meanwhile by a colleague (a 409)
 * does not undo the other 49, and each one is as atomic as a single decision.
 */
async function each(findingIds: string[], decideOne: (findingId: string) => Promise<DecisionResult>): Promise<BulkResult> {
  const result: BulkResult = { decided: [], failed: [] };
  for (const findingId of findingIds) {
    try {
      result.decided.push(await decideOne(findingId));
    } catch (e) {
      // Per-finding problems (decided meanwhile, self-review, nothing to reduce) are reported per row.
      if (!(e instanceof AppError)) throw e;
      result.failed.push({ findingId, code: e.code, message: e.message });
    }
  }
  return result;
}

type Decide = (actor: Actor, input: unknown, client: PrismaClient) => Promise<DecisionResult>;

/** Validates the bulk input, then runs the single-finding decision once per distinct finding with the shared fields. */
async function bulkDecide(actor: Actor, schema: z.ZodType<{ findingIds: string[] }>, input: unknown, decideOne: Decide, client: PrismaClient): Promise<BulkResult> {
  authorize(actor, "findings:decide");
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const { findingIds, ...rest } = parsed.data;
  return each([...new Set(findingIds)], (findingId) => decideOne(actor, { ...rest, findingId }, client));
}

export const bulkApprove = (actor: Actor, input: unknown, client: PrismaClient = db()) => bulkDecide(actor, bulkApproveInput, input, approveFinding, client);
export const bulkRevoke = (actor: Actor, input: unknown, client: PrismaClient = db()) => bulkDecide(actor, bulkRevokeInput, input, revokeGrant, client);
/** Bulk reduce keeps, for each finding, the scopes that principal used (the default of reduceGrant). */
export const bulkReduce = (actor: Actor, input: unknown, client: PrismaClient = db()) => bulkDecide(actor, bulkReduceInput, input, reduceGrant, client);
