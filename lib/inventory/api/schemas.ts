import { z } from "zod";
import { GRANT_STATUSES, LAST_USED_BUCKETS, PRINCIPAL_KINDS, SCOPE_LEVELS } from "../grants-params";

// The inventory API's wire format (issue 15): the query strings the list routes accept
// and the objects every route answers with. The OpenAPI description is generated from
// these schemas and from the use cases' input schemas (openapi.ts), so it cannot drift
// from what the routes validate and return.

export const MAX_LIMIT = 200;
export const DEFAULT_LIMIT = 50;

const uuid = z.uuid();
const when = z.iso.datetime({ offset: true });
const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const search = z.string().trim().min(1).max(100).regex(/^[^\p{Cc}]*$/u, "must not contain control characters");

/** Pagination shared by every list: an opaque cursor from the previous page's `nextCursor`. */
const page = {
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional().meta({ description: `Rows per page (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})` }),
  cursor: z.string().max(200).optional().meta({ description: "The previous page's nextCursor" }),
};

export const principalsQuery = z.strictObject({
  ...page,
  kind: z.enum(PRINCIPAL_KINDS).optional(),
  status: z.enum(["active", "suspended", "deprovisioned"]).optional(),
  team: uuid.optional().meta({ description: "Team id" }),
  environment: z.string().max(64).optional().meta({ description: "Home environment name" }),
  q: search.optional().meta({ description: "Case-insensitive search in name, external id and email" }),
});

export const credentialsQuery = z.strictObject({
  ...page,
  principal: uuid.optional().meta({ description: "Principal id" }),
  status: z.enum(["active", "revoked", "expired"]).optional(),
  origin: z.enum(["issued", "rotated", "import", "seed"]).optional(),
});

/** The same filters as the grants table in the dashboard (lib/inventory/grants-params.ts). */
export const grantsQuery = z.strictObject({
  ...page,
  api: uuid.optional(),
  scope: uuid.optional(),
  level: z.enum(SCOPE_LEVELS).optional(),
  environment: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be an environment name").optional(),
  kind: z.enum(PRINCIPAL_KINDS).optional().meta({ description: "Principal kind" }),
  status: z.enum(GRANT_STATUSES).optional(),
  lastUsed: z.enum(LAST_USED_BUCKETS).optional().meta({ description: "never, lt7 (< 7 days), 7to30, 30to90, gt90 (> 90 days)" }),
  principal: uuid.optional(),
  q: search.optional().meta({ description: "Case-insensitive search in the principal's name, external id and email" }),
});

export const apisQuery = z.strictObject({
  ...page,
  environment: z.string().max(64).optional().meta({ description: "Environment name" }),
  team: uuid.optional().meta({ description: "Owning team id" }),
  q: search.optional().meta({ description: "Case-insensitive search in the name" }),
});

export const endpointsQuery = z.strictObject({
  ...page,
  api: uuid.optional(),
  method: z.enum(["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"]).optional(),
  public: bool.optional().meta({ description: "Only endpoints that accept requests without a credential (true) or only protected ones (false)" }),
  deprecated: bool.optional(),
});

export const scopesQuery = z.strictObject({
  ...page,
  api: uuid.optional(),
  level: z.enum(SCOPE_LEVELS).optional(),
  q: search.optional().meta({ description: "Case-insensitive search in the name" }),
});

export const principalOut = z
  .object({
    id: uuid,
    kind: z.enum(PRINCIPAL_KINDS),
    displayName: z.string(),
    email: z.string().nullable(),
    externalId: z.string().nullable(),
    status: z.enum(["active", "suspended", "deprovisioned"]),
    teamId: uuid.nullable(),
    managerId: uuid.nullable(),
    homeEnvironmentId: uuid.nullable(),
    statusChangedAt: when,
    createdAt: when,
  })
  .meta({ id: "Principal" });

export const credentialOut = z
  .object({
    id: uuid,
    principalId: uuid,
    prefix: z.string().meta({ description: "Display prefix; the key itself is never stored" }),
    origin: z.string().nullable(),
    status: z.enum(["active", "revoked", "expired"]),
    createdAt: when,
    rotatedAt: when.nullable(),
    expiresAt: when.nullable(),
    lastUsedAt: when.nullable(),
    revokedAt: when.nullable(),
  })
  .meta({ id: "Credential" });

export const grantOut = z
  .object({
    id: uuid,
    status: z.enum(GRANT_STATUSES),
    principalId: uuid,
    principalName: z.string(),
    principalKind: z.enum(PRINCIPAL_KINDS),
    scopeId: uuid,
    scopeName: z.string(),
    scopeLevel: z.enum(SCOPE_LEVELS),
    apiId: uuid,
    apiName: z.string(),
    environment: z.string(),
    origin: z.string().nullable(),
    grantedAt: when,
    expiresAt: when.nullable(),
    lastUsedAt: when.nullable(),
    revokedAt: when.nullable(),
  })
  .meta({ id: "Grant" });

export const apiOut = z
  .object({
    id: uuid,
    name: z.string(),
    description: z.string().nullable(),
    baseUrl: z.string(),
    environmentId: uuid,
    environment: z.string(),
    teamId: uuid.nullable(),
    createdAt: when,
    updatedAt: when,
  })
  .meta({ id: "Api" });

export const endpointOut = z
  .object({
    id: uuid,
    apiId: uuid,
    method: z.string(),
    pathTemplate: z.string(),
    summary: z.string().nullable(),
    sensitivity: z.enum(["low", "medium", "high", "critical"]),
    public: z.boolean(),
    requirements: z.array(z.array(uuid)).meta({ description: "Alternatives (OR) of scope-id sets (AND)" }),
    deprecatedAt: when.nullable(),
    routingStoppedAt: when.nullable(),
    createdAt: when,
  })
  .meta({ id: "Endpoint" });

export const scopeOut = z
  .object({
    id: uuid,
    apiId: uuid,
    name: z.string(),
    level: z.enum(SCOPE_LEVELS),
    description: z.string().nullable(),
    levelSetBy: z.string().nullable().meta({ description: "Who set the level by hand (null: inferred by an import)" }),
    deprecatedAt: when.nullable(),
    createdAt: when,
  })
  .meta({ id: "Scope" });

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable().meta({ description: "Pass as cursor for the next page; null on the last page" }) });

/** What a write answers: the row after the change and how the proxies learn it. */
export const writeResultOf = <T extends z.ZodType>(item: T) =>
  z.object({
    data: item,
    changeId: uuid.nullable().meta({ description: "The access change delivering this to the proxies (grants, keys), if any" }),
    enforcement: z.enum(["not_required", "pending", "applied", "failed"]).meta({ description: "pending: proxy updates are queued in the same transaction" }),
  });

export const errorOut = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      field: z.string().optional(),
      issues: z.array(z.object({ pointer: z.string().meta({ description: "JSON pointer into the request, e.g. /body/expiresAt or /query/limit" }), message: z.string() })).optional(),
    }),
  })
  .meta({ id: "Error" });

/** Cursor = the last row's id, opaque to clients (base64url) so the order key may change later. */
export const encodeCursor = (id: string) => Buffer.from(id).toString("base64url");
export function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  const id = Buffer.from(cursor, "base64url").toString();
  return uuid.safeParse(id).success ? id : "invalid";
}
