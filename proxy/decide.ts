import crypto from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { RouteEntry } from "./matcher";
import { normalizeTarget, segmentsOf, shadowPath } from "./normalize";
import { hexOfDigest, type ApiEntry, type EnforcementState } from "./state";
import { keyAtLocation } from "./key-location";

// The access decision for one request, shared by the data plane and the
// forward-auth endpoint. Order: canonical path -> API by prefix -> route ->
// public route? -> key (401) -> unknown route (404, shadow) -> requirements (403):
// allowed when the key's principal holds every scope of one alternative.
// Authenticating before revealing whether a route exists keeps the endpoint
// inventory private from callers without a valid key.

export type Decision =
  | { kind: "not_ready" }
  | { kind: "bad_request"; reason: string }
  | { kind: "unauthenticated" }
  | { kind: "no_route"; apiId: string | null; shadowPath: string; keyHash: string; principalId: string }
  | { kind: "forbidden"; principalId: string }
  | {
      kind: "allow";
      api: ApiEntry;
      route: RouteEntry;
      path: string;
      rest: string;
      query: string;
      principalId: string | null;
      /** The first grant of the alternative that allowed the request (null for a public route). */
      grantId: string | null;
      credentialId: string | null;
      /** Interned principal (-1 for a public route) and the allowing alternative's offset in route.need (-1: public). */
      principal: number;
      alternative: number;
    };

/** The presented API key: `Authorization: Bearer <key>` or `X-API-Key`. */
export function presentedKey(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  if (auth !== undefined) return bearerToken(auth);
  const k = headers["x-api-key"];
  if (typeof k === "string" && k.length > 0 && k.length <= 512 && !k.includes(",")) return k.trim();
  return null;
}

/**
 * The token of `Bearer <token>` (scheme case-insensitive, one or more spaces
 * before the token, only spaces after it; the token 1-512 visible ASCII
 * characters), or null. The same grammar as /^Bearer[ ]+([\x21-\x7e]{1,512})[ ]*$/i,
 * scanned by hand: every authenticated request passes here, and the regular
 * expression's match array and its runtime call cost more than the scan.
 */
export function bearerToken(auth: string): string | null {
  const n = auth.length;
  if (n < 8 || (auth.charCodeAt(6) !== 32 /* space */)) return null;
  // "Bearer" in any case: OR-ing 0x20 lower-cases the letters (and maps no other ASCII onto them).
  if ((auth.charCodeAt(0) | 32) !== 98 || (auth.charCodeAt(1) | 32) !== 101 || (auth.charCodeAt(2) | 32) !== 97 ||
      (auth.charCodeAt(3) | 32) !== 114 || (auth.charCodeAt(4) | 32) !== 101 || (auth.charCodeAt(5) | 32) !== 114) return null;
  let start = 7;
  while (start < n && auth.charCodeAt(start) === 32) start++;
  let end = start;
  for (; end < n; end++) {
    const c = auth.charCodeAt(end);
    if (c < 0x21 || c > 0x7e) break;
  }
  const len = end - start;
  if (len < 1 || len > 512) return null;
  for (let i = end; i < n; i++) if (auth.charCodeAt(i) !== 32) return null;
  return auth.slice(start, end);
}

// Once per authenticated request: the one-shot crypto.hash (Node >= 20.12) skips
// the Hash object createHash builds; older Nodes fall back to it. The digest
// comes as a latin1 ("binary") string, the credential index's key (state.ts, digestKey).
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: "binary") => string }).hash;
export const sha256Digest = oneShot ? (s: string) => oneShot("sha256", s, "binary") : (s: string) => crypto.createHash("sha256").update(s).digest("binary");

export function decide(state: EnforcementState | null, method: string, target: string, headers: IncomingHttpHeaders, now: number): Decision {
  if (!state) return { kind: "not_ready" };
  const n = normalizeTarget(target);
  if (!n.ok) return { kind: "bad_request", reason: n.reason };
  const segments = segmentsOf(n.path);
  const owner = state.apiFor(n.path, segments);
  const route = owner ? owner.api.matcher.match(method, segments, owner.depth) : null;
  const rest = owner ? owner.rest : "";

  if (route?.public && owner) {
    return { kind: "allow", api: owner.api, route, path: n.path, rest, query: n.query, principalId: null, grantId: null, credentialId: null, principal: -1, alternative: -1 };
  }

  const loc = owner?.api.keyLocation ?? null;
  const key = loc ? keyAtLocation(loc, headers, n.query) : presentedKey(headers);
  if (key === null) return { kind: "unauthenticated" };
  const digest = sha256Digest(key);
  const cred = state.credentialByDigest(digest);
  if (!cred || (cred.expiresAt !== null && cred.expiresAt <= now)) return { kind: "unauthenticated" };

  if (!route || !owner) {
    return { kind: "no_route", apiId: owner?.api.id ?? null, shadowPath: shadowPath(segments), keyHash: hexOfDigest(digest), principalId: cred.principalId };
  }

  const at = satisfiedAlternative(state, route.need, cred.principal, now);
  if (at < 0) return { kind: "forbidden", principalId: cred.principalId };
  return {
    kind: "allow", api: owner.api, route, path: n.path, rest, query: n.query, principalId: cred.principalId,
    grantId: state.grantId(firstSlot), credentialId: cred.id, principal: cred.principal, alternative: at,
  };
}

/**
 * The offset in `need` of the first alternative whose scopes the principal all
 * holds with live grants, or -1. `need` is a route's compiled requirements
 * ([n, s1..sn, m, t1..tm, ...], see RouteEntry): typed-array reads and grant
 * index probes only, nothing allocated.
 */
export function satisfiedAlternative(state: EnforcementState, need: Int32Array, principal: number, now: number): number {
  let i = 0;
  while (i < need.length) {
    const n = need[i];
    let j = 1;
    for (; j <= n; j++) {
      const g = state.grantSlotOf(principal, need[i + j]);
      if (g < 0 || state.grantExpiresAt(g) <= now) break;
      if (j === 1) firstSlot = g;
    }
    if (j > n && n > 0) return i; // an empty set never allows (canonical form drops them anyway)
    i += n + 1;
  }
  return -1;
}

/**
 * The grant slot of the first scope of the alternative satisfiedAlternative()
 * last returned: read right after it (nothing runs in between on the one
 * thread), so decide() does not probe the grant table a second time for it.
 */
let firstSlot = -1;

/**
 * Reports the allowed request to usage (its route, its credential) and every
 * grant the allowing alternative used: a request allowed
 * through "a AND b" uses both grants, so neither looks unused to the analysis
 * (lib/analysis/rules.ts, over_privileged). Called right after decide(), before
 * the state can change.
 */
export function recordAllowedUsage(
  state: EnforcementState,
  d: Extract<Decision, { kind: "allow" }>,
  now: number,
  usage: {
    recordRequest(grantId: string | null, credentialId: string | null, routeId: string, now: number): void;
    recordAllowed(grantId: string | null, credentialId: string | null, now: number): void;
  },
): void {
  usage.recordRequest(d.grantId, d.credentialId, d.route.id, now);
  if (d.alternative < 0) return;
  const need = d.route.need;
  const end = d.alternative + need[d.alternative];
  for (let k = d.alternative + 2; k <= end; k++) {
    const g = state.grantSlotOf(d.principal, need[k]);
    if (g >= 0) usage.recordAllowed(state.grantId(g), null, now);
  }
}
