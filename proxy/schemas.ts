import { z } from "zod";
import { normalizeTarget } from "./normalize";
import { anyOf, canonicalRequirements } from "./requirements";

// Wire shapes of the admin API (docs/ARCHITECTURE.md, "Enforcement proxy admin API").
const id = z.guid();
const iso = z.iso.datetime({ offset: true }).nullable();

export const RESERVED_PREFIX = "/_tollgate";

/** Segments are static, "{param}", or — last only — "{rest*}" (the remainder of the path, zero or more segments). */
export const PATH_TEMPLATE =
  /^(?:\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\})?(\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\}))*\/?|(\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\}))*\/\{[A-Za-z0-9_.-]+\*\})$/;

/**
 * Where an API's clients send their key, with Kong key-auth's `key_names`
 * semantics: names are tried in order, each as a header (when `header`) and
 * then as a query parameter (when `query`); the first present one is the key.
 * Without it the API reads `Authorization: Bearer` or `X-API-Key`.
 */
export const keyLocationValue = z.object({
  names: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "key names may only hold letters, digits, _ and -")).min(1).max(16),
  header: z.boolean(),
  query: z.boolean(),
});
export type KeyLocation = z.infer<typeof keyLocationValue>;

export const apiValue = z.object({
  id,
  name: z.string().min(1).max(200),
  prefix: z
    .string()
    .max(200)
    .refine((p) => {
      const n = normalizeTarget(p);
      return n.ok && n.query === "" && n.path === p && p !== "/";
    }, "must be a canonical path like /orders (no trailing slash, dots, escapes or query)")
    .refine((p) => p !== RESERVED_PREFIX && !p.startsWith(RESERVED_PREFIX + "/"), "is reserved"),
  upstream: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u) && !u.includes("?") && !u.includes("#"), "must be an http(s) URL without query"),
  keyLocation: keyLocationValue.optional(),
});

export const routeValue = z.object({
  id,
  apiId: id,
  method: z.string().regex(/^[A-Z]{1,16}$/, "must be an upper-case HTTP method"),
  pathTemplate: z
    .string()
    .max(1000)
    .regex(PATH_TEMPLATE, "must be a path template like /orders/{id} (a last segment {rest*} matches any remainder)"),
  /** Alternatives (OR) of scope sets (AND), proxy/requirements.ts; stored in canonical order. */
  requirements: z.array(z.array(id).min(1, "a requirement set names at least one scope (a public route sets public)").max(64)).max(1000).optional(),
  /** Before issue 17: "any one of these scopes". Still accepted (one single-scope alternative each), never sent back. */
  scopeIds: z.array(id).max(1000).optional(),
  public: z.boolean().default(false),
}).transform((v, ctx) => {
  if (v.requirements && v.scopeIds) {
    ctx.addIssue({ code: "custom", path: ["scopeIds"], message: "give requirements or the older scopeIds, not both" });
    return z.NEVER;
  }
  if (!v.requirements && !v.scopeIds) {
    ctx.addIssue({ code: "custom", path: ["requirements"], message: "is required (a list of scope-id sets)" });
    return z.NEVER;
  }
  const requirements = v.requirements ? canonicalRequirements(v.requirements) : anyOf(v.scopeIds!);
  return { id: v.id, apiId: v.apiId, method: v.method, pathTemplate: v.pathTemplate, requirements, public: v.public };
});

export const credentialValue = z.object({
  id,
  principalId: id,
  hash: z.string().regex(/^[0-9a-f]{64}$/, "must be the lower-case sha256 hex of the key"),
  expiresAt: iso.default(null),
});

export const grantValue = z.object({
  id,
  principalId: id,
  scopeId: id,
  expiresAt: iso.default(null),
});

export const KINDS = ["api", "route", "credential", "grant"] as const;
export type Kind = (typeof KINDS)[number];
export const valueSchemas = { api: apiValue, route: routeValue, credential: credentialValue, grant: grantValue } as const;
export const PLURAL: Record<string, Kind> = { apis: "api", routes: "route", credentials: "credential", grants: "grant" };

export type ApiValue = z.infer<typeof apiValue>;
export type RouteValue = z.output<typeof routeValue>;
export type CredentialValue = z.infer<typeof credentialValue>;
export type GrantValue = z.infer<typeof grantValue>;

export type Op =
  | { op: "upsert"; kind: "api"; value: ApiValue }
  | { op: "upsert"; kind: "route"; value: RouteValue }
  | { op: "upsert"; kind: "credential"; value: CredentialValue }
  | { op: "upsert"; kind: "grant"; value: GrantValue }
  | { op: "delete"; kind: Kind; id: string };

const idempotencyKey = z.string().min(1).max(200);

const rawOp = z.discriminatedUnion("op", [
  z.object({ op: z.literal("upsert"), kind: z.enum(KINDS), value: z.unknown() }),
  z.object({ op: z.literal("delete"), kind: z.enum(KINDS), id }),
]);

// The value is checked against its kind's schema so a bad field is reported as
// e.g. "ops.3.value.hash" rather than "ops.3: invalid union".
const op = rawOp.transform((o, ctx): Op => {
  if (o.op === "delete") return o;
  const parsed = valueSchemas[o.kind].safeParse(o.value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ["value", ...issue.path] } as never);
    return z.NEVER;
  }
  return { op: "upsert", kind: o.kind, value: parsed.data } as Op;
});

/** Apply only if the proxy is still at this revision (else 409 revision_conflict): the dashboard's drift repair sets it. */
const ifRevision = z.number().int().nonnegative().optional();
export const batchBody = z.object({ idempotencyKey, ops: z.array(op).min(1).max(200_000), ifRevision });
export const putBody = z.object({ idempotencyKey, value: z.unknown() });
export const deleteBody = z.object({ idempotencyKey });

export const snapshotBody = z.object({
  idempotencyKey,
  ifRevision,
  revision: z.number().optional(),
  apis: z.array(apiValue),
  routes: z.array(routeValue),
  credentials: z.array(credentialValue),
  grants: z.array(grantValue),
});
export type SnapshotBody = z.infer<typeof snapshotBody>;

/** "ops.3.value.hash: Invalid input" style field path of a zod error's first issue. */
export function firstIssue(error: z.ZodError): { field: string | undefined; message: string } {
  const i = error.issues[0];
  const field = i?.path.length ? i.path.map(String).join(".") : undefined;
  return { field, message: field ? `${field}: ${i.message}` : (i?.message ?? "invalid body") };
}

// The streamed snapshot (Content-Type: application/x-ndjson): a header line,
// then one object per line, APIs before the routes that name them.
/** How many lines of each kind follow: a stream that ends short of them was cut, not complete. */
const announced = z.object({ apis: z.number().int().min(0), routes: z.number().int().min(0), credentials: z.number().int().min(0), grants: z.number().int().min(0) });
/** The sender's content digest of what follows (proxy/digest.ts): the stream is refused unless the received state matches it. */
const sha = z.string().regex(/^[0-9a-f]{64}$/);
const announcedDigest = z.object({ asOf: z.number().int().nonnegative(), kinds: z.object({ api: sha, route: sha, credential: sha, grant: sha }) });
export const ndjsonHeader = z.object({ idempotencyKey, revision: z.number().optional(), counts: announced.optional(), digest: announcedDigest.optional(), ifRevision });
/** A pulled stream's header (the dashboard's GET /api/v1/proxy/snapshot): no key; the proxy makes one per pull. */
export const ndjsonPullHeader = ndjsonHeader.omit({ idempotencyKey: true, ifRevision: true }).extend({ environment: z.string().max(200).optional() });
export const ndjsonLine = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("api"), value: apiValue }),
  z.object({ kind: z.literal("route"), value: routeValue }),
  z.object({ kind: z.literal("credential"), value: credentialValue }),
  z.object({ kind: z.literal("grant"), value: grantValue }),
]);
