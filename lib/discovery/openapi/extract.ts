import { badRequest } from "@/lib/errors";
import type { OpenApiDocument } from "./parse";

export type Level = "read" | "write" | "admin";

export interface OperationSpec {
  method: string;
  pathTemplate: string;
  summary: string | null;
  /** Explicit `security: []` (or an empty alternative `{}`): no credential needed. */
  public: boolean;
  /** Scope names the operation accepts (any one of them, the model's semantics). */
  scopes: string[];
}

export interface ScopeSpec {
  name: string;
  level: Level;
  description: string | null;
}

export interface Description {
  operations: OperationSpec[];
  scopes: ScopeSpec[];
  /** Path part of the first server URL / Swagger basePath; endpoints stay relative to it. */
  serverPathPrefix: string;
  /** Absolute upstream URL the document names (server URL or scheme://host/basePath), if any. */
  serverUrl: string | null;
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Names that say admin/manage are admin; otherwise a name that says read or
 * write (`read:pets`, `orders.write`, `repo:readonly`) is taken at its word,
 * because OAuth descriptions often require both on every operation; otherwise
 * GET/HEAD/OPTIONS read and anything else writes.
 */
export function inferLevel(scopeName: string, method: string): Level {
  if (/admin/i.test(scopeName) || /:manage$/i.test(scopeName)) return "admin";
  if (/(^|[^a-z])read(only)?([^a-z]|$)/i.test(scopeName)) return "read";
  if (/(^|[^a-z])write([^a-z]|$)/i.test(scopeName)) return "write";
  return SAFE.has(method.toUpperCase()) ? "read" : "write";
}

const RANK: Record<Level, number> = { read: 0, write: 1, admin: 2 };
const maxLevel = (a: Level, b: Level): Level => (RANK[a] >= RANK[b] ? a : b);

type Requirement = Record<string, string[]>;

/**
 * Endpoints and the scopes they require. Security semantics (also in
 * lib/discovery/README.md):
 * - per-operation `security` overrides the global one; `security: []` or an
 *   empty alternative `{}` makes the operation public;
 * - alternatives are OR-ed and the model stores "any one of these scopes", so
 *   the scopes of every alternative are unioned (an AND of several scopes within
 *   one alternative cannot be expressed and becomes "any of them");
 * - an alternative naming no scope (apiKey, http basic/bearer, or an OAuth2
 *   scheme with an empty list) yields a synthetic scope per scheme and level,
 *   `<scheme>:read` or `<scheme>:write` by method, so a read-only key can still
 *   be told apart from a writing one;
 * - an operation with no security declared at all stays protected with no
 *   scope (the proxy then refuses it until an admin assigns one) rather than
 *   being opened to the world by omission.
 */
export function extractDescription(doc: OpenApiDocument): Description {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, unknown>>;
  const globalSecurity = doc.security as Requirement[] | undefined;
  const schemeDescriptions = securitySchemeScopes(doc);
  const operations: OperationSpec[] = [];
  const scopes = new Map<string, ScopeSpec>();
  const seen = new Map<string, string>();
  const operationIds = new Map<string, string>();

  for (const [pathTemplate, item] of Object.entries(paths)) {
    if (!item || typeof item !== "object") continue;
    if (!pathTemplate.startsWith("/")) throw badRequest(`path "${pathTemplate}" must start with "/"`, `paths`);
    const templateProblem = badTemplate(pathTemplate);
    if (templateProblem) throw badRequest(`path ${JSON.stringify(pathTemplate.slice(0, 200))} ${templateProblem}`, "paths");
    for (const m of METHODS) {
      const op = item[m] as Record<string, unknown> | undefined;
      if (!op || typeof op !== "object") continue;
      const method = m.toUpperCase();
      const where = `paths["${pathTemplate}"].${m}`;
      const key = `${method} ${normalizeTemplate(pathTemplate)}`;
      const prior = seen.get(key);
      if (prior) throw badRequest(`duplicate operation ${method} ${pathTemplate} at ${where}: same route as ${prior}`, "paths");
      seen.set(key, where);
      if (typeof op.operationId === "string") {
        const priorId = operationIds.get(op.operationId);
        if (priorId) throw badRequest(`duplicate operationId "${op.operationId}" at ${where} (also at ${priorId})`, "paths");
        operationIds.set(op.operationId, where);
      }

      const requirements = (op.security as Requirement[] | undefined) ?? globalSecurity;
      let isPublic = false;
      const names = new Set<string>();
      if (Array.isArray(requirements)) {
        if (requirements.length === 0) isPublic = true;
        for (const alternative of requirements) {
          const entries = Object.entries(alternative ?? {});
          if (entries.length === 0) {
            isPublic = true;
            continue;
          }
          const named = entries.flatMap(([, list]) => (Array.isArray(list) ? list.map(String) : []));
          if (named.length) named.forEach((n) => names.add(n));
          else for (const [scheme] of entries) names.add(`${scheme}:${SAFE.has(method) ? "read" : "write"}`);
        }
      }
      for (const name of names) {
        const level = inferLevel(name, method);
        const prev = scopes.get(name);
        scopes.set(name, {
          name,
          level: prev ? maxLevel(prev.level, level) : level,
          description: prev?.description ?? schemeDescriptions.get(name) ?? null,
        });
      }
      const summary = typeof op.summary === "string" ? op.summary : typeof op.operationId === "string" ? op.operationId : null;
      operations.push({
        method,
        pathTemplate,
        summary: summary ? summary.slice(0, 500) : null,
        public: isPublic,
        scopes: isPublic ? [] : [...names].sort(),
      });
    }
  }
  // A public operation's scopes are dropped above; keep only scopes still used.
  const used = new Set(operations.flatMap((o) => o.scopes));
  return {
    operations,
    scopes: [...scopes.values()].filter((s) => used.has(s.name)).sort((a, b) => a.name.localeCompare(b.name)),
    ...servers(doc),
  };
}

const MAX_TEMPLATE = 2000;

/**
 * A template the proxy could never match the way it reads (requests with dot
 * or empty segments are refused before matching, braces must pair up) would
 * otherwise be imported as a silently dead endpoint.
 */
function badTemplate(t: string): string | null {
  if (t.length > MAX_TEMPLATE) return `is longer than ${MAX_TEMPLATE} characters`;
  // "?" and "#" stay: real descriptions use "/cookies#formNonExploded" to tell apart operations on one path.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are refused or stripped
  if (/[\x00-\x20\x7f\\]/.test(t)) return "contains whitespace, a control character or \"\\\"";
  const body = t.length > 1 && t.endsWith("/") ? t.slice(1, -1) : t.slice(1);
  if (body === "") return null;
  for (const seg of body.split("/")) {
    if (seg === "") return "has an empty segment (\"//\")";
    if (seg === "." || seg === "..") return `has a dot segment "${seg}"`;
    // Braces pair up, do not nest, and name something: "{id}", "{name}.json", "{id}:cancel".
    if (!/^(?:[^{}]|\{[^{}/]+\})*$/.test(seg)) return `has unbalanced or empty braces in segment "${seg.slice(0, 100)}"`;
  }
  return null;
}

/** `/pets/{id}` and `/pets/{petId}/` are the same route to a matcher. */
export function normalizeTemplate(path: string): string {
  const p = path.replace(/\{[^}]*\}/g, "{}");
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

function securitySchemeScopes(doc: OpenApiDocument): Map<string, string> {
  const out = new Map<string, string>();
  const components = doc.components as { securitySchemes?: Record<string, unknown> } | undefined;
  const schemes = (components?.securitySchemes ?? (doc.securityDefinitions as Record<string, unknown>) ?? {}) as Record<
    string,
    { scopes?: Record<string, string>; flows?: Record<string, { scopes?: Record<string, string> }> }
  >;
  for (const scheme of Object.values(schemes)) {
    if (!scheme || typeof scheme !== "object") continue;
    for (const [n, d] of Object.entries(scheme.scopes ?? {})) if (typeof d === "string") out.set(n, d);
    for (const flow of Object.values(scheme.flows ?? {})) {
      for (const [n, d] of Object.entries(flow?.scopes ?? {})) if (typeof d === "string") out.set(n, d);
    }
  }
  return out;
}

function servers(doc: OpenApiDocument): { serverPathPrefix: string; serverUrl: string | null } {
  if (doc.swagger) {
    const basePath = typeof doc.basePath === "string" ? doc.basePath.replace(/\/$/, "") : "";
    const host = typeof doc.host === "string" ? doc.host : null;
    const schemes = Array.isArray(doc.schemes) ? (doc.schemes as string[]) : [];
    const scheme = schemes.includes("https") ? "https" : (schemes[0] ?? "https");
    return { serverPathPrefix: basePath, serverUrl: host ? `${scheme}://${host}${basePath}` : null };
  }
  const first = (doc.servers as { url?: string; variables?: Record<string, { default?: string }> }[] | undefined)?.[0];
  if (!first?.url) return { serverPathPrefix: "", serverUrl: null };
  const url = first.url.replace(/\{([^}]+)\}/g, (_, name: string) => first.variables?.[name]?.default ?? "");
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return { serverPathPrefix: "", serverUrl: null };
    const prefix = u.pathname.replace(/\/$/, "");
    return { serverPathPrefix: prefix, serverUrl: `${u.origin}${prefix}` };
  } catch {
    return { serverPathPrefix: url.startsWith("/") ? url.replace(/\/$/, "") : "", serverUrl: null };
  }
}
