import { z } from "zod";
import { optionalParam as opt, searchParamsParser } from "@/lib/url-state";

/**
 * The queue's URL search params, parsed in one place for the server page and
 * the client table: every view is a shareable link. Unknown or malformed
 * values fall back to the default rather than erroring (a stale bookmark still opens; lib/url-state.ts).
 */
export const RULES = ["dormant", "never_used", "over_privileged", "orphaned", "expired_active", "stale_credential", "cross_environment", "privileged_service", "deprecated_scope", "reactivated", "new_endpoint", "volume_spike", "new_network", "granted_outside_review"] as const;
export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export const QUEUE_PER_PAGE = [25, 50, 100] as const;

export const queueQuerySchema = z.object({
  /** open: every open finding; confirm: proposals this person may confirm (two-person rule); decided: decisions and proposals. */
  view: z.enum(["open", "confirm", "decided"]).catch("open"),
  rule: opt(z.enum(RULES)),
  severity: opt(z.enum(SEVERITIES)),
  api: opt(z.string().max(200)),
  environment: opt(z.uuid()),
  assignee: opt(z.enum(["me", "unassigned"])),
  sort: z.enum(["risk", "opened"]).catch("risk"),
  dir: z.enum(["asc", "desc"]).catch("desc"),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  perPage: z.coerce
    .number()
    .refine((n) => (QUEUE_PER_PAGE as readonly number[]).includes(n))
    .catch(50),
});

export type QueueQuery = z.infer<typeof queueQuerySchema>;

export const parseQueueQuery = searchParamsParser(queueQuerySchema);
