import { encodeUuid, GrantTable, Interner, UUID_WORDS } from "./compact";
import { keyHeaderNames } from "./key-location";
import { RouteMatcher, type RouteEntry } from "./matcher";
import { anyOf, canonicalRequirements } from "./requirements";
import type { ApiValue, CredentialValue, GrantValue, KeyLocation, Kind, Op, RouteValue, SnapshotBody } from "./schemas";

// The enforcement state held in memory and indexed for the request path:
// credentials by key hash, grants by (principal, scope) in a compact table
// (proxy/compact.ts), routes in one compiled matcher per API, APIs by path prefix.

export interface ApiEntry {
  id: string;
  name: string;
  prefix: string;
  upstream: string;
  /** Where this API's clients send their key (Kong key_names); null: Authorization Bearer / X-API-Key. */
  keyLocation: KeyLocation | null;
  /** keyLocation's header names in both spellings (never forwarded unless keys are), built once here, not per request. */
  keyHeaders: Set<string> | null;
  matcher: RouteMatcher;
  routeIds: Set<string>;
}
/**
 * The index key of a credential: its SHA-256 as 32 latin1 characters rather
 * than 64 hex ones. Every authenticated request hashes its key and looks it up;
 * half the characters to hash and compare is measurably cheaper there, and the
 * mapping from the (validated, lower-case) hex form is one-to-one.
 */
export const digestKey = (hex: string): string => Buffer.from(hex, "hex").toString("latin1");
/** The inverse of digestKey: a digest key back to its lower-case hex form. */
export const hexOfDigest = (digest: string): string => Buffer.from(digest, "latin1").toString("hex");

export interface CredentialEntry {
  id: string;
  principalId: string;
  /** Interned principal index, for the grant lookup. */
  principal: number;
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

const uuidScratch = new Uint32Array(UUID_WORDS);
const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export class EnforcementState {
  readonly apis = new Map<string, ApiEntry>();
  private readonly apisByPrefix = new Map<string, ApiEntry>();
  private maxPrefixDepth = 0;
  readonly routes = new Map<string, RouteEntry>();
  readonly credentialsById = new Map<string, CredentialEntry>();
  /** By the raw SHA-256 digest as a 32-character latin1 string (see `digestKey`). */
  private readonly credentialsByDigest = new Map<string, CredentialEntry>();
  private readonly grants = new GrantTable();
  // Principals are counted (freed when their last grant or credential goes);
  // scopes are few and also named by routes, so they are kept for the state's life.
  private readonly principals = new Interner(true);
  private readonly scopes = new Interner(false);

  /** Read-only view of grants by id (admin API, tests). */
  readonly grantsById = {
    has: (id: string): boolean => this.grants.slotOf(id) >= 0,
    get: (id: string): GrantEntry | undefined => {
      const slot = this.grants.slotOf(id);
      return slot < 0 ? undefined : this.grantEntry(slot);
    },
    size: () => this.grants.size,
  };

  static fromSnapshot(s: Pick<SnapshotBody, "apis" | "routes" | "credentials" | "grants">): EnforcementState {
    const st = new EnforcementState();
    st.validate(toOps(s), "snapshot");
    st.applyOps(toOps(s));
    return st;
  }

  counts() {
    return { apis: this.apis.size, routes: this.routes.size, credentials: this.credentialsById.size, grants: this.grants.size };
  }

  // ---------------------------------------------------------------- reads (hot path)

  /** The credential whose key hashes to this digest (`sha256Digest` of the presented key). */
  credentialByDigest(digest: string): CredentialEntry | undefined {
    return this.credentialsByDigest.get(digest);
  }

  /** The credential with this lower-case hex SHA-256 (admin API form, tests). */
  credentialByHash(hash: string): CredentialEntry | undefined {
    return this.credentialsByDigest.get(digestKey(hash));
  }

  /** The slot of the principal's grant for a scope, or -1. No allocation. */
  grantSlot(principal: number, scopeId: string): number {
    const scope = this.scopes.lookup(scopeId);
    return scope < 0 ? -1 : this.grants.slotFor(principal, scope);
  }

  /** Hot path: grantSlot for an interned scope number (a route's compiled `need`). */
  grantSlotOf(principal: number, scope: number): number {
    return this.grants.slotFor(principal, scope);
  }

  /** Epoch ms, Infinity when the grant never expires. */
  grantExpiresAt(slot: number): number {
    return this.grants.expiresAt(slot);
  }

  /** The id of a grant that a request is using (cached; see GrantTable.usedIdOf). */
  grantId(slot: number): string {
    return this.grants.usedIdOf(slot);
  }

  /** The principal's grant for a scope, or undefined (materialised; not for the hot path). */
  grantFor(principalId: string, scopeId: string): GrantEntry | undefined {
    const p = this.principals.lookup(principalId);
    const slot = p < 0 ? -1 : this.grantSlot(p, scopeId);
    return slot < 0 ? undefined : this.grantEntry(slot);
  }

  /** For a replacement applied as a diff (state-diff.ts): grants by slot, without materialising them. */
  grantSlotOfId(id: string): number {
    return this.grants.slotOf(id);
  }

  grantSlots(): Generator<number> {
    return this.grants.slots();
  }

  grantIdAt(slot: number): string {
    return this.grants.idOf(slot);
  }

  private grantEntry(slot: number): GrantEntry {
    const r = this.grants.row(slot);
    return { id: r.id, principalId: this.principals.string(r.principal), scopeId: this.scopes.string(r.scope), expiresAt: r.expiresAt === Infinity ? null : r.expiresAt };
  }

  /**
   * The API owning a canonical path (with its segments): longest matching prefix.
   * `depth` is how many segments the prefix spans and `rest` the path after it
   * ("" or "/…"), cut from the path rather than re-joined.
   */
  apiFor(path: string, segments: string[]): { api: ApiEntry; depth: number; rest: string } | null {
    let depth = Math.min(this.maxPrefixDepth, segments.length);
    if (depth === 0) return null;
    let end = 0; // "/a/b" has its depth-2 prefix end at 1 + len(a) + 1 + len(b)
    for (let i = 0; i < depth; i++) end += 1 + segments[i].length;
    for (; depth >= 1; depth--) {
      const api = this.apisByPrefix.get(path.slice(0, end));
      if (api) return { api, depth, rest: path.slice(end) };
      end -= 1 + segments[depth - 1].length;
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
      } else if (o.op === "upsert" && o.kind === "grant") {
        // The wire schema already requires a uuid; the compact table stores nothing else.
        if (!encodeUuid(o.value.id, uuidScratch, 0)) throw new StateError(fieldPrefix === "snapshot" ? `${at}.id` : `${at}.value.id`, "must be a uuid");
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

  /** A route's requirements as interned scope numbers, flattened: [n, s1..sn, m, t1..tm, ...]. */
  private compile(requirements: string[][]): Int32Array {
    const need = new Int32Array(requirements.reduce((n, set) => n + 1 + set.length, 0));
    let i = 0;
    for (const set of requirements) {
      need[i++] = set.length;
      for (const s of set) need[i++] = this.scopes.acquire(s); // scopes are never released: the numbers stay valid
    }
    return need;
  }

  /** One shared string per scope id (routes name the same few scopes many times). */
  private intern(s: string): string {
    return this.scopes.string(this.scopes.acquire(s));
  }

  private upsertApi(v: ApiValue, dirty: Set<string>): void {
    const old = this.apis.get(v.id);
    if (old && this.apisByPrefix.get(old.prefix) === old) this.apisByPrefix.delete(old.prefix);
    const entry: ApiEntry = {
      id: v.id,
      name: v.name,
      prefix: v.prefix,
      upstream: v.upstream.replace(/\/+$/, ""),
      keyLocation: v.keyLocation ?? null,
      keyHeaders: v.keyLocation ? keyHeaderNames(v.keyLocation) : null,
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
    const requirements = routeRequirements(v).map((set) => set.map((s) => this.intern(s)));
    const entry: RouteEntry = { id: v.id, apiId: v.apiId, method: v.method, pathTemplate: v.pathTemplate, requirements, public: v.public, need: this.compile(requirements) };
    this.routes.set(v.id, entry);
    api.routeIds.add(v.id);
    dirty.add(v.apiId);
  }

  private upsertCredential(v: CredentialValue): void {
    // Take the new principal reference before dropping the old one, so a
    // re-upsert of the same credential keeps its principal index. The entry
    // keeps its place in credentialsById (Map.set), as before.
    const principal = this.principals.acquire(v.principalId);
    const old = this.credentialsById.get(v.id);
    if (old) this.unindexCredential(old);
    const entry: CredentialEntry = { id: v.id, principalId: this.principals.string(principal), principal, hash: v.hash, expiresAt: ms(v.expiresAt) };
    this.credentialsById.set(v.id, entry);
    this.credentialsByDigest.set(digestKey(v.hash), entry);
  }

  // A later grant for the same (principal, scope) becomes the one enforced; the
  // earlier one stays listed by id. Removing the enforced one does not fall back
  // to the earlier one (unchanged from the first, object-based state).
  private upsertGrant(v: GrantValue): void {
    const principal = this.principals.acquire(v.principalId);
    this.removeGrant(v.id);
    const scope = this.scopes.acquire(v.scopeId);
    const e = ms(v.expiresAt);
    this.grants.add(v.id, principal, scope, e === null ? Infinity : e);
  }

  private removeGrant(id: string): void {
    const slot = this.grants.slotOf(id);
    if (slot < 0) return;
    const principal = this.grants.principalOf(slot);
    this.grants.remove(slot);
    this.principals.release(principal);
  }

  private removeCredential(id: string): void {
    const old = this.credentialsById.get(id);
    if (!old) return;
    this.credentialsById.delete(id);
    this.unindexCredential(old);
  }

  /** Drops a replaced or deleted credential from the digest index and releases its principal. */
  private unindexCredential(old: CredentialEntry): void {
    const key = digestKey(old.hash);
    if (this.credentialsByDigest.get(key) === old) this.credentialsByDigest.delete(key);
    this.principals.release(old.principal);
  }

  private remove(kind: Kind, id: string, dirty: Set<string>): void {
    if (kind === "grant") return this.removeGrant(id);
    if (kind === "credential") return this.removeCredential(id);
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
    for (const a of this.apis.values()) {
      yield { kind: "api", value: { id: a.id, name: a.name, prefix: a.prefix, upstream: a.upstream, ...(a.keyLocation ? { keyLocation: a.keyLocation } : {}) } };
    }
    for (const r of this.routes.values()) yield { kind: "route", value: { id: r.id, apiId: r.apiId, method: r.method, pathTemplate: r.pathTemplate, requirements: r.requirements, public: r.public } };
    for (const c of this.credentialsById.values()) yield { kind: "credential", value: { id: c.id, principalId: c.principalId, hash: c.hash, expiresAt: iso(c.expiresAt) } };
    for (const slot of this.grants.slots()) yield { kind: "grant", value: grantWire(this.grantEntry(slot)) };
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

/**
 * A route value's requirements in canonical form. Values reach the state parsed
 * (admin API, snapshots: already canonical) or straight from the proxy's own
 * state file and journal, which a proxy from before issue 17 wrote with the
 * older `scopeIds` ("any one of"): those load as single-scope alternatives.
 */
function routeRequirements(v: RouteValue): string[][] {
  const legacy = (v as { scopeIds?: string[] }).scopeIds;
  if (Array.isArray(v.requirements)) return canonicalRequirements(v.requirements);
  return Array.isArray(legacy) ? anyOf(legacy) : [];
}
