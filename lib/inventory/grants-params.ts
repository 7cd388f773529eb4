import { z } from "zod";

/**
 * The one parser for the grants table's URL: the server page and the client
 * table both read the query through it, so a shared link always means the same
 * view. Every field falls back to its default on junk (`?page=-3&sort=drop`),
 * so a bad link shows a sane page instead of an error.
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

const optional = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

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
  // Control characters and lone surrogates are dropped: Postgres cannot take a
  // NUL in a query parameter (a "?q=%00" link was an error page).
  q: optional(z.string().transform(cleanSearch).pipe(z.string().min(1).max(100))),
});

function cleanSearch(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are refused or stripped
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "")
    .trim();
}

export type GrantsQuery = z.infer<typeof schema>;
export type GrantsFilterKey = "api" | "scope" | "level" | "environment" | "kind" | "status" | "lastUsed" | "principal" | "q";

type RawParams = URLSearchParams | Record<string, string | string[] | undefined>;

export function parseGrantsQuery(params: RawParams): GrantsQuery {
  const flat: Record<string, string> = {};
  if (params instanceof URLSearchParams) {
    for (const key of params.keys()) flat[key] ??= params.get(key) ?? "";
  } else {
    for (const [key, value] of Object.entries(params)) {
      const v = Array.isArray(value) ? value[0] : value;
      if (v !== undefined) flat[key] = v;
    }
  }
  // Empty strings (a cleared <select>) mean "no filter", not "invalid".
  for (const key of Object.keys(flat)) if (flat[key] === "") delete flat[key];
  return schema.parse(flat);
}

/** The canonical query string for a view: defaults are left out so links stay short. */
export function grantsQueryString(query: Partial<GrantsQuery>): string {
  const sp = new URLSearchParams();
  const put = (k: string, v: string | number | undefined, dflt?: string | number) => {
    if (v !== undefined && v !== dflt) sp.set(k, String(v));
  };
  put("q", query.q);
  put("api", query.api);
  put("scope", query.scope);
  put("level", query.level);
  put("environment", query.environment);
  put("kind", query.kind);
  put("status", query.status);
  put("lastUsed", query.lastUsed);
  put("principal", query.principal);
  put("sort", query.sort, DEFAULT_SORT);
  put("dir", query.dir, DEFAULT_DIR);
  put("perPage", query.perPage, DEFAULT_PER_PAGE);
  put("page", query.page, 1);
  const s = sp.toString();
  return s ? `?${s}` : "";
}
