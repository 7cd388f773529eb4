import { RouteMatcher, type RouteEntry } from "./matcher";
import type { ApiValue, CredentialValue, GrantValue, Kind, Op, RouteValue, SnapshotBody } from "./schemas";

// The enforcement state held in memory and indexed for the request path:
// credentials by key hash, grants by principal then scope, routes in one
// compiled matcher per API, APIs by path prefix.

export interface ApiEntry {
  id: string;
  name: string;
  prefix: string;
  upstream: string;
  matcher: RouteMatcher;
  routeIds: Set<string>;
}
export interface CredentialEntry {
  id: string;
  principalId: string;
  hash: string;
  expiresAt: number | null;
}
export interface GrantEntry {
  id: string;
  principalId: string;
  scopeId: string;
  expiresAt: number | null;
}

export class StateError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const SMALL_GRANT_SET = 32;
const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export class EnforcementState {
  readonly apis = new Map<string, ApiEntry>();
  private readonly apisByPrefix = new Map<string, ApiEntry>();
  private maxPrefixDepth = 0;
  readonly routes = new Map<string, RouteEntry>();
  readonly credentialsById = new Map<string, CredentialEntry>();
  private readonly credentialsByHash = new Map<string, CredentialEntry>();
  readonly grantsById = new Map<string, GrantEntry>();
  // Most principals hold a handful of grants: a small array is a fraction of a
  // Map's memory (a million grants), and scanning it is as fast. Principals with
  // many grants switch to a Map keyed by scope.
  private readonly grantsByPrincipal = new Map<string, GrantEntry[] | Map<string, GrantEntry>>();
  // Principal and scope ids repeat across many grants: one shared string each.
  private readonly interned = new Map<string, string>();

  static fromSnapshot(s: Pick<SnapshotBody, "apis" | "routes" | "credentials" | "grants">): EnforcementState {
    const st = new EnforcementState();
    st.validate(toOps(s), "snapshot");
    st.applyOps(toOps(s));
    return st;
  }

  counts() {
    return { apis: this.apis.size, routes: this.routes.size, credentials: this.credentialsById.size, grants: this.grantsById.size };
  }

  // ---------------------------------------------------------------- reads (hot path)

  credentialByHash(hash: string): CredentialEntry | undefined {
    return this.credentialsByHash.get(hash);
  }

  /** The principal's grant for a scope, or undefined. */
  grantFor(principalId: string, scopeId: string): GrantEntry | undefined {
    const held = this.grantsByPrincipal.get(principalId);
    if (held === undefined) return undefined;
    if (held instanceof Map) return held.get(scopeId);
    for (let i = 0; i < held.length; i++) if (held[i].scopeId === scopeId) return held[i];
    return undefined;
  }

  hasGrants(principalId: string): boolean {
    return this.grantsByPrincipal.has(principalId);
  }

  /** The API owning a canonical path's segments: longest matching prefix. */
  apiFor(segments: string[]): { api: ApiEntry; rest: string[] } | null {
    for (let depth = Math.min(this.maxPrefixDepth, segments.length); depth >= 1; depth--) {
      const api = this.apisByPrefix.get("/" + segments.slice(0, depth).join("/"));
      if (api) return { api, rest: segments.slice(depth) };
    }
    return null;
  }

  // ---------------------------------------------------------------- mutations

  /**
   * Checks a batch against the current state without changing it, simulating
   * earlier ops of the same batch, so a batch is applied entirely or not at all.
   */
  validate(ops: Op[], fieldPrefix = "ops"): void {
    const apiIds = new Map<string, boolean>(); // id -> exists after the ops so far
    const prefixes = new Map<string, string | null>(); // prefix -> api id holding it
    const apiExists = (id: string) => apiIds.get(id) ?? this.apis.has(id);
    const prefixHolder = (p: string) => (prefixes.has(p) ? prefixes.get(p) : (this.apisByPrefix.get(p)?.id ?? null));
    const perKind: Record<string, number> = {};
    ops.forEach((o, i) => {
      const k = (perKind[o.kind] = (perKind[o.kind] ?? -1) + 1);
      const at = fieldPrefix === "snapshot" ? `${o.kind}s.${k}` : `${fieldPrefix}.${i}`;
      if (o.op === "upsert" && o.kind === "api") {
        const holder = prefixHolder(o.value.prefix);
        if (holder && holder !== o.value.id) throw new StateError(fieldPrefix === "snapshot" ? `${at}.prefix` : `${at}.value.prefix`, `prefix ${o.value.prefix} is used by another api`);
        const old = apiIds.get(o.value.id) === false ? undefined : this.apis.get(o.value.id);
        if (old && old.prefix !== o.value.prefix) prefixes.set(old.prefix, null);
        prefixes.set(o.value.prefix, o.value.id);
        apiIds.set(o.value.id, true);
      } else if (o.op === "delete" && o.kind === "api") {
        const old = this.apis.get(o.id);
        if (old) prefixes.set(old.prefix, null);
        apiIds.set(o.id, false);
      } else if (o.op === "upsert" && o.kind === "route") {
        if (!apiExists(o.value.apiId)) throw new StateError(fieldPrefix === "snapshot" ? `${at}.apiId` : `${at}.value.apiId`, "unknown api");
      }
    });
  }

  /** Applies validated ops. Returns nothing; cannot fail after validate(). */
  applyOps(ops: Op[]): void {
    const dirtyApis = new Set<string>();
    for (const o of ops) {
      if (o.op === "upsert") this.upsert(o, dirtyApis);
      else this.remove(o.kind, o.id, dirtyApis);
    }
    for (const apiId of dirtyApis) this.rebuildMatcher(apiId);
  }

  private upsert(o: Extract<Op, { op: "upsert" }>, dirty: Set<string>): void {
    switch (o.kind) {
      case "api":
        return this.upsertApi(o.value, dirty);
      case "route":
        return this.upsertRoute(o.value, dirty);
      case "credential":
        return this.upsertCredential(o.value);
      case "grant":
        return this.upsertGrant(o.value);
    }
  }

  private intern(s: string): string {
    const v = this.interned.get(s);
    if (v !== undefined) return v;
    this.interned.set(s, s);
    return s;
  }

  private upsertApi(v: ApiValue, dirty: Set<string>): void {
    const old = this.apis.get(v.id);
    if (old && this.apisByPrefix.get(old.prefix) === old) this.apisByPrefix.delete(old.prefix);
    const entry: ApiEntry = {
      id: v.id,
      name: v.name,
      prefix: v.prefix,
      upstream: v.upstream.replace(/\/+$/, ""),
      matcher: old?.matcher ?? new RouteMatcher(),
      routeIds: old?.routeIds ?? new Set(),
    };
    this.apis.set(v.id, entry);
    this.apisByPrefix.set(v.prefix, entry);
    this.maxPrefixDepth = Math.max(this.maxPrefixDepth, v.prefix.split("/").length - 1);
    dirty.add(v.id);
  }

  private upsertRoute(v: RouteValue, dirty: Set<string>): void {
    const api = this.apis.get(v.apiId);
    if (!api) return; // validate() refuses this; replaying a journal never crashes on it
    const old = this.routes.get(v.id);
    if (old) {
      this.apis.get(old.apiId)?.routeIds.delete(old.id);
      dirty.add(old.apiId);
    }
    const entry: RouteEntry = { ...v, scopeIds: v.scopeIds.map((s) => this.intern(s)) };
    this.routes.set(v.id, entry);
    api.routeIds.add(v.id);
    dirty.add(v.apiId);
  }

  private upsertCredential(v: CredentialValue): void {
    const old = this.credentialsById.get(v.id);
    if (old && this.credentialsByHash.get(old.hash) === old) this.credentialsByHash.delete(old.hash);
    const entry: CredentialEntry = { id: v.id, principalId: this.intern(v.principalId), hash: v.hash, expiresAt: ms(v.expiresAt) };
    this.credentialsById.set(v.id, entry);
    this.credentialsByHash.set(v.hash, entry);
  }

  private upsertGrant(v: GrantValue): void {
    this.removeGrant(v.id);
    const entry: GrantEntry = { id: v.id, principalId: this.intern(v.principalId), scopeId: this.intern(v.scopeId), expiresAt: ms(v.expiresAt) };
    this.grantsById.set(v.id, entry);
    const held = this.grantsByPrincipal.get(entry.principalId);
    if (held === undefined) {
      this.grantsByPrincipal.set(entry.principalId, [entry]);
    } else if (held instanceof Map) {
      held.set(entry.scopeId, entry);
    } else {
      const i = held.findIndex((g) => g.scopeId === entry.scopeId);
      if (i >= 0) held[i] = entry;
      else if (held.length < SMALL_GRANT_SET) held.push(entry);
      else {
        const m = new Map<string, GrantEntry>(held.map((g) => [g.scopeId, g]));
        m.set(entry.scopeId, entry);
        this.grantsByPrincipal.set(entry.principalId, m);
      }
    }
  }

  private removeGrant(id: string): void {
    const old = this.grantsById.get(id);
    if (!old) return;
    this.grantsById.delete(id);
    const held = this.grantsByPrincipal.get(old.principalId);
    if (held === undefined) return;
    if (held instanceof Map) {
      if (held.get(old.scopeId) === old) held.delete(old.scopeId);
      if (held.size === 0) this.grantsByPrincipal.delete(old.principalId);
    } else {
      const i = held.indexOf(old);
      if (i >= 0) held.splice(i, 1);
      if (held.length === 0) this.grantsByPrincipal.delete(old.principalId);
    }
  }

  private remove(kind: Kind, id: string, dirty: Set<string>): void {
    if (kind === "grant") return this.removeGrant(id);
    if (kind === "credential") {
      const old = this.credentialsById.get(id);
      if (!old) return;
      this.credentialsById.delete(id);
      if (this.credentialsByHash.get(old.hash) === old) this.credentialsByHash.delete(old.hash);
      return;
    }
    if (kind === "route") {
      const old = this.routes.get(id);
      if (!old) return;
      this.routes.delete(id);
      this.apis.get(old.apiId)?.routeIds.delete(id);
      dirty.add(old.apiId);
      return;
    }
    const api = this.apis.get(id);
    if (!api) return;
    // Like the database: an API's routes go with it.
    for (const rid of api.routeIds) this.routes.delete(rid);
    this.apis.delete(id);
    if (this.apisByPrefix.get(api.prefix) === api) this.apisByPrefix.delete(api.prefix);
    dirty.delete(id);
  }

  private rebuildMatcher(apiId: string): void {
    const api = this.apis.get(apiId);
    if (!api) return;
    const m = new RouteMatcher();
    for (const rid of api.routeIds) m.add(this.routes.get(rid)!);
    api.matcher = m;
  }

  // ---------------------------------------------------------------- serialisation

  /** Every object as a wire value, in dependency order (apis before routes). */
  *values(): Generator<{ kind: Kind; value: ApiValue | RouteValue | CredentialValue | GrantValue }> {
    for (const a of this.apis.values()) yield { kind: "api", value: { id: a.id, name: a.name, prefix: a.prefix, upstream: a.upstream } };
    for (const r of this.routes.values()) yield { kind: "route", value: r };
    for (const c of this.credentialsById.values()) yield { kind: "credential", value: { id: c.id, principalId: c.principalId, hash: c.hash, expiresAt: iso(c.expiresAt) } };
    for (const g of this.grantsById.values()) yield { kind: "grant", value: grantWire(g) };
  }
}

export const grantWire = (g: GrantEntry): GrantValue => ({ id: g.id, principalId: g.principalId, scopeId: g.scopeId, expiresAt: iso(g.expiresAt) });

export function toOps(s: Pick<SnapshotBody, "apis" | "routes" | "credentials" | "grants">): Op[] {
  const ops: Op[] = [];
  for (const value of s.apis) ops.push({ op: "upsert", kind: "api", value });
  for (const value of s.routes) ops.push({ op: "upsert", kind: "route", value });
  for (const value of s.credentials) ops.push({ op: "upsert", kind: "credential", value });
  for (const value of s.grants) ops.push({ op: "upsert", kind: "grant", value });
  return ops;
}
