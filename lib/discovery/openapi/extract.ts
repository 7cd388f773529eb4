import { badRequest } from "@/lib/errors";
import { canonicalRequirements, scopesNamed } from "@/proxy/requirements";
import type { OpenApiDocument } from "./parse";
import { syntheticScopeName } from "./synthetic-scope";
import { classifyScope, type ScopeUse } from "./scope-classify";

export type Level = "read" | "write" | "admin";

export interface OperationSpec {
  method: string;
  pathTemplate: string;
  summary: string | null;
  /** Explicit `security: []` (or an empty alternative `{}`): no credential needed. */
  public: boolean;
  /** No `security` on the operation nor the document: protected with no scope until an admin assigns one. */
  noSecurity: boolean;
  /**
   * The operation's security requirements as scope names: alternatives (OR) of
   * sets (AND), canonical (proxy/requirements.ts). `[]` when public or when no
   * security is declared.
   */
  requirements: string[][];
  /** Every scope name the requirements mention, sorted (levels, the scope list). */
  scopes: string[];
}

export interface ScopeSpec {
  name: string;
  level: Level;
  /** Why that level (scope-classify.ts): shown in the diff and on the API page. */
  evidence: string[];
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

/** The level of a scope required by one operation alone (shadow endpoints added by hand): same rule as an import. */
export function inferLevel(scopeName: string, method: string): Level {
  return classifyScope(scopeName, [{ method: method.toUpperCase(), pathTemplate: "", together: [] }]).level;
}

/** Each scope of each required set, with the scopes it is required together with (its level's evidence). */
function recordUses(uses: Map<string, ScopeUse[]>, method: string, pathTemplate: string, sets: string[][]): void {
  for (const set of sets) {
    for (const name of set) {
      let list = uses.get(name);
      if (!list) uses.set(name, (list = []));
      list.push({ method, pathTemplate, together: set.filter((n) => n !== name) });
    }
  }
}

type Requirement = Record<string, string[]>;

/**
 * Endpoints and the scopes they require. Security semantics (also in
 * lib/discovery/README.md):
 * - per-operation `security` overrides the global one; `security: []` or an
 *   empty alternative `{}` makes the operation public;
 * - requirement objects are alternatives (OR); everything inside one object is
 *   required together (AND): `{oauth: [a, b]}` needs a AND b, and
 *   `{oauth: [a], apiKey: []}` needs a AND the apiKey scheme's scope;
 * - a scheme listed with no scope (apiKey, http basic/bearer, or an OAuth2
 *   scheme with an empty list) stands for a synthetic scope per scheme and
 *   level, `<scheme> credential (read|write)` by method (synthetic-scope.ts),
 *   so a read-only key can still be told apart from a writing one;
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
  const uses = new Map<string, ScopeUse[]>();

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
      const sets: string[][] = [];
      if (Array.isArray(requirements)) {
        if (requirements.length === 0) isPublic = true;
        for (const alternative of requirements) {
          const entries = Object.entries(alternative ?? {});
          if (entries.length === 0) {
            isPublic = true;
            continue;
          }
          sets.push(entries.flatMap(([scheme, list]) => (Array.isArray(list) && list.length ? list.map(String) : [syntheticScopeName(scheme, method)])));
        }
      }
      const required = isPublic ? [] : canonicalRequirements(sets);
      recordUses(uses, method, pathTemplate, required);
      const names = new Set(required.flat());
      for (const name of names) {
        if (!scopes.has(name)) scopes.set(name, { name, level: "read", evidence: [], description: schemeDescriptions.get(name) ?? null });
      }
      const summary = typeof op.summary === "string" ? op.summary : typeof op.operationId === "string" ? op.operationId : null;
      operations.push({
        method,
        pathTemplate,
        summary: summary ? summary.slice(0, 500) : null,
        public: isPublic,
        noSecurity: !Array.isArray(requirements),
        requirements: required,
        scopes: scopesNamed(required),
      });
    }
  }
  // A public operation's scopes are dropped above; keep only scopes still used.
  const used = new Set(operations.flatMap((o) => o.scopes));
  for (const spec of scopes.values()) Object.assign(spec, classifyScope(spec.name, uses.get(spec.name) ?? []));
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
export function badTemplate(t: string): string | null {
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
