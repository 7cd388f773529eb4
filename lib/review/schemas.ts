import { z } from "zod";

const findingId = z.uuid("must be a finding id");

export const approveInput = z.object({
  findingId,
  justification: z.string().trim().min(10, "explain why the access is still needed (at least 10 characters)").max(2000),
  reReviewAt: z.coerce
    .date()
    .refine((d) => d.getTime() > Date.now(), "must be in the future")
    .nullish(),
});

export const revokeInput = z.object({
  findingId,
  justification: z.string().trim().max(2000).nullish(),
});

export const reduceInput = z.object({
  findingId,
  /** Scopes of the principal on the finding's API to keep; default: the ones used in the window. */
  keepScopeIds: z.array(z.uuid()).max(500).optional(),
  justification: z.string().trim().max(2000).nullish(),
});

const bulkIds = z.array(findingId).min(1, "select at least one finding").max(500, "at most 500 findings at once");
export const bulkApproveInput = approveInput.omit({ findingId: true }).extend({ findingIds: bulkIds });
export const bulkRevokeInput = revokeInput.omit({ findingId: true }).extend({ findingIds: bulkIds });
export const bulkReduceInput = z.object({ findingIds: bulkIds, justification: z.string().trim().max(2000).nullish() });

export const confirmInput = z.object({ decisionId: z.uuid("must be a decision id") });
export const claimInput = z.object({ findingId });
export const assignInput = z.object({ findingId, assigneeId: z.uuid("must be a user id").nullable() });
