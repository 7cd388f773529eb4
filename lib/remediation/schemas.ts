import { z } from "zod";

export const REMEDIATION_KINDS = ["revoke_unused_grants", "reduce_service_accounts", "revoke_unrotated_keys"] as const;
export type RemediationKindName = (typeof REMEDIATION_KINDS)[number];

/** What each kind does, in the words the admin page and the notices use. */
export const KIND_TITLES: Record<RemediationKindName, string> = {
  revoke_unused_grants: "Revoke grants unused in non-production",
  reduce_service_accounts: "Reduce service accounts to the scopes they used",
  revoke_unrotated_keys: "Revoke keys not rotated",
};

export const DEFAULT_NOTICE_DAYS = 7;
/** A remediated grant or key can be restored in one action for this long. */
export const ROLLBACK_DAYS = 30;

export const policyInput = z.object({
  name: z.string().trim().min(3, "at least 3 characters").max(100),
  kind: z.enum(REMEDIATION_KINDS, "must be one of " + REMEDIATION_KINDS.join(", ")),
  days: z.coerce.number().int("a whole number of days").min(1, "at least 1").max(3650, "at most 3650"),
  noticeDays: z.coerce.number().int("a whole number of days").min(1, "at least 1 (owners must be warned first)").max(90, "at most 90").default(DEFAULT_NOTICE_DAYS),
});
export type PolicyInput = z.input<typeof policyInput>;

export const policyIdInput = z.object({ policyId: z.uuid("must be a policy id") });
export const itemIdInput = z.object({ itemId: z.uuid("must be a remediation item id") });
export const objectionInput = z.object({
  itemId: z.uuid("must be a remediation item id"),
  reason: z.string().trim().min(10, "say why in at least 10 characters").max(2000),
});
