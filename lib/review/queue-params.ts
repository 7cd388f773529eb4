import { z } from "zod";

/**
 * The queue's URL search params, parsed in one place for the server page and
 * the client table: every view is a shareable link. Unknown or malformed
 * values fall back to the default rather than erroring (a stale bookmark still opens).
 */
export const RULES = ["dormant", "never_used", "over_privileged", "orphaned", "expired_active", "stale_credential", "cross_environment", "privileged_service", "deprecated_scope"] as const;
export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export const QUEUE_PER_PAGE = [25, 50, 100] as const;

const opt = <T extends z.ZodType>(s: T) => s.optional().catch(undefined);

export const queueQuerySchema = z.object({
  view: z.enum(["open", "decided"]).catch("open"),
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

export function parseQueueQuery(params: Record<string, string | string[] | undefined>): QueueQuery {
  const flat = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]).filter(([, v]) => v !== undefined && v !== ""));
  return queueQuerySchema.parse(flat);
}
