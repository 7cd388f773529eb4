/**
 * The scope Tollgate invents for a security alternative that names no scope
 * (an apiKey, http basic/bearer, or OAuth2/OIDC with an empty list), one per
 * scheme and level so a read-only key can be told from a writing one.
 *
 * The name contains spaces and parentheses on purpose: an OAuth scope token
 * cannot contain a space (RFC 6749 §3.3, scope-token = 1*NQCHAR), so the
 * invented name can never be mistaken for, or collide with, a real scope such
 * as Linode's `account:read_write` (the old form `<scheme>:read` looked exactly
 * like one: Linode's scheme `oauth` gave `oauth:read`).
 */
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export function syntheticScopeName(scheme: string, method: string): string {
  return `${scheme} credential (${SAFE.has(method.toUpperCase()) ? "read" : "write"})`;
}


const SYNTHETIC = / credential \((read|write)\)$/;

export function isSyntheticScopeName(name: string): boolean {
  return SYNTHETIC.test(name);
}
