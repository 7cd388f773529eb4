import { z } from "zod";
import { optionalParam as optional, searchParamsParser, searchTextParam } from "@/lib/url-state";

/**
 * The one parser for the grants table's URL: the server page and the client
 * table both read the query through it, so a shared link always means the same
 * view. Every field falls back to its default on junk (`?page=-3&sort=drop`),
 * so a bad link shows a sane page instead of an error (lib/url-state.ts).
 */
export const GRANT_SORTS = ["grantedAt", "lastUsedAt", "expiresAt", "principal", "scope"] as const;
export const PER_PAGE_OPTIONS = [10, 25, 50, 100] as const;
export const LAST_USED_BUCKETS = ["never", "lt7", "7to30", "30to90", "gt90"] as const;
export const LAST_USED_LABELS: Record<LastUsedBucket, string> = {
  never: "Never used", lt7: "< 7 days", "7to30": "7–30 days", "30to90": "30–90 days", gt90: "> 90 days",
};
export const SCOPE_LEVELS = ["read", "write", "admin"] as const;
export const PRINCIPAL_KINDS = ["user", "service_account", "api_key"] as const;
export const GRANT_STATUSES = ["active", "revoked", "expired"] as const;

export type GrantSort = (typeof GRANT_SORTS)[number];
export type LastUsedBucket = (typeof LAST_USED_BUCKETS)[number];

export const DEFAULT_SORT: GrantSort = "grantedAt";
export const DEFAULT_DIR = "desc";
export const DEFAULT_PER_PAGE = 25;
/** Pages are only offered up to this many matching rows; beyond it the count shows "10,000+". */
export const COUNT_CAP = 10_000;

const schema = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1),
  perPage: z.coerce
    .number()
    .refine((n): n is (typeof PER_PAGE_OPTIONS)[number] => (PER_PAGE_OPTIONS as readonly number[]).includes(n))
    .catch(DEFAULT_PER_PAGE),
  sort: z.enum(GRANT_SORTS).catch(DEFAULT_SORT),
  dir: z.enum(["asc", "desc"]).catch(DEFAULT_DIR),
  api: optional(z.guid()),
  scope: optional(z.guid()),
  level: optional(z.enum(SCOPE_LEVELS)),
  environment: optional(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)),
  kind: optional(z.enum(PRINCIPAL_KINDS)),
  status: optional(z.enum(GRANT_STATUSES)),
  lastUsed: optional(z.enum(LAST_USED_BUCKETS)),
  principal: optional(z.guid()),
  q: searchTextParam(100),
});

export type GrantsQuery = z.infer<typeof schema>;
export type GrantsFilterKey = "api" | "scope" | "level" | "environment" | "kind" | "status" | "lastUsed" | "principal" | "q";

/** The grants table's URL, read the same way by the page and by listGrants (lib/url-state.ts). */
export const parseGrantsQuery = searchParamsParser(schema);
