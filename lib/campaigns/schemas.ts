import { z } from "zod";

const uuids = (what: string) => z.array(z.uuid(`must be ${what} ids`)).max(500).default([]);

/** The attestation a reviewer signs; the sign-off form sends it verbatim. */
export const ATTESTATION = "I certify that the access listed is appropriate";

export const createCampaignInput = z
  .object({
    name: z.string().trim().min(3, "at least 3 characters").max(120),
    period: z
      .string()
      .trim()
      .regex(/^\d{4}-(Q[1-4]|H[12]|(0[1-9]|1[0-2]))$|^\d{4}$/, "a period such as 2026-Q4, 2026-H2, 2026-11 or 2026"),
    apiIds: uuids("API"),
    environmentIds: uuids("environment"),
    teamIds: uuids("team"),
    dueAt: z.coerce.date({ error: "must be a date" }),
    reviewerRule: z.enum(["manager", "owning_team", "named"], { error: "choose manager, owning_team or named" }),
    namedReviewerIds: uuids("user"),
    closePolicy: z.enum(["revoke", "keep_and_flag"], { error: "choose revoke or keep_and_flag" }),
    fallbackReviewerId: z.uuid("must be a user id").nullish(),
    fallbackDays: z.coerce.number().int().min(0).max(30).default(3),
    recurrence: z.enum(["none", "quarterly"]).default("none"),
  })
  .superRefine((v, ctx) => {
    if (v.reviewerRule === "named" && v.namedReviewerIds.length === 0)
      ctx.addIssue({ code: "custom", path: ["namedReviewerIds"], message: "name at least one reviewer for the named rule" });
    if (v.recurrence === "quarterly" && !/^\d{4}-Q[1-4]$/.test(v.period))
      ctx.addIssue({ code: "custom", path: ["period"], message: "a quarterly campaign needs a quarter period such as 2026-Q4" });
  });
export type CreateCampaignInput = z.infer<typeof createCampaignInput>;

export const campaignIdInput = z.object({ campaignId: z.uuid("must be a campaign id") });
/** `confirmItemCount`: the item count the admin saw in the preview; the dashboard requires it above LAUNCH_CONFIRM_ABOVE. */
export const launchInput = campaignIdInput.extend({ confirmItemCount: z.coerce.number().int().min(0).optional() });

const itemIds = z.array(z.uuid("must be item ids")).min(1, "select at least one item").max(500, "at most 500 items at once");

/**
 * A certifier's note on one item: optional, except that keeping an item with open findings needs one
 * (checked in certify.ts, where the item's findings are known); when written, it says something.
 */
const note = z
  .string()
  .trim()
  .max(2000)
  .refine((s) => s === "" || s.length >= 10, "explain the decision (at least 10 characters)");

export const certifyInput = z.object({
  itemId: z.uuid("must be an item id"),
  decision: z.enum(["keep", "revoke", "reduce"], { error: "choose keep, revoke or reduce" }),
  justification: note.optional(),
  /** reduce: the scopes of the principal on the item's API to keep (default: those used recently). */
  keepScopeIds: z.array(z.uuid()).max(500).optional(),
  /** One click on the item's recommendation (recommend.ts): recomputed from the item, a stale one is a 409. */
  acceptRecommendation: z.boolean().optional(),
});
export const bulkCertifyInput = z.object({
  itemIds,
  decision: z.enum(["keep", "revoke", "reduce"], { error: "choose keep, revoke or reduce" }),
  /** Each item's own note, by item id (the certification list sends the notes written on the selected rows). */
  notes: z
    .record(z.uuid("notes: keys must be item ids"), note)
    .refine((n) => Object.keys(n).length <= 500, "notes: at most 500")
    .optional(),
  /** A note for the items without one of their own (API callers; the dashboard sends per-row notes). */
  justification: note.optional(),
});
/** Two-person rule: the proposal is named by its Decision id, so nobody confirms a newer proposal than the one they saw. */
export const confirmItemInput = z.object({ decisionId: z.uuid("must be a decision id") });
export const rejectItemInput = z.object({
  decisionId: z.uuid("must be a decision id"),
  justification: z.string().trim().min(10, "explain why you reject the proposal (at least 10 characters)").max(2000),
});
export const delegateInput = z.object({ itemIds, toUserId: z.uuid("must be a user id") });
export const signOffInput = z.object({
  campaignId: z.uuid("must be a campaign id"),
  attestation: z.literal(ATTESTATION, { error: `confirm the attestation ("${ATTESTATION}")` }),
});

export const myItemsParams = z.object({
  campaignId: z.uuid("must be a campaign id"),
  groupBy: z.enum(["person", "api"]).catch("person"),
  /** pending: undecided, including proposals awaiting a second reviewer; awaiting: only those. */
  status: z.enum(["pending", "awaiting", "decided", "all"]).catch("pending"),
  q: z.string().trim().max(100).catch(""),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  perPage: z.coerce.number().int().min(10).max(200).catch(50),
});

export const CERTIFICATION_TO_DECISION = { keep: "approve", revoke: "revoke", reduce: "reduce" } as const;
