import { z } from "zod";
import { ROLES, type Role } from "./actor";

/**
 * Group → role mapping for OIDC sign-in. Configured with OIDC_ROLE_MAP, a JSON
 * object whose keys are group names (or ids, as Entra sends object ids) and
 * whose values are a role or a list of roles. Unset: the default below.
 */
export const DEFAULT_ROLE_MAP: Record<string, Role[]> = {
  "tollgate-admins": ["admin"],
  "tollgate-reviewers": ["reviewer"],
  "tollgate-managers": ["manager"],
  "tollgate-auditors": ["auditor"],
};

const roleSchema = z.enum(ROLES);
const roleMapSchema = z.record(
  z.string().min(1),
  z.union([roleSchema.transform((r) => [r]), z.array(roleSchema).min(1)]),
);

/** Parses OIDC_ROLE_MAP; a bad value is a configuration error naming the offending group. */
export function parseRoleMap(raw: string | undefined): Record<string, Role[]> {
  if (raw === undefined || raw.trim() === "") return DEFAULT_ROLE_MAP;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error("OIDC_ROLE_MAP: must be a JSON object, e.g. {\"tollgate-admins\":[\"admin\"]}");
  }
  const parsed = roleMapSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? ` (group ${JSON.stringify(String(issue.path[0]))})` : "";
    throw new Error(`OIDC_ROLE_MAP${where}: ${issue.message}; roles are ${ROLES.join(", ")}`);
  }
  return parsed.data;
}

/**
 * Reads the groups claim from ID-token claims. The claim name may be a dotted
 * path (Keycloak: "realm_access.roles"). Accepts an array of strings or a
 * single string; anything else counts as no groups.
 */
export function readGroupsClaim(claims: Record<string, unknown>, claimPath: string): string[] {
  let value: unknown = claims;
  if (claimPath in claims) value = claims[claimPath];
  else {
    for (const part of claimPath.split(".")) {
      value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
    }
  }
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === "string");
  return [];
}

/** Roles granted by a user's groups, deduplicated and in canonical order. */
export function rolesForGroups(groups: string[], map: Record<string, Role[]>): Role[] {
  const granted = new Set<Role>();
  // Own keys only: a group the IdP names "constructor" or "__proto__" must not
  // reach Object.prototype (it made sign-in throw).
  for (const g of groups) if (Object.hasOwn(map, g)) for (const r of map[g]) granted.add(r);
  return ROLES.filter((r) => granted.has(r));
}

/** Roles as stored in User.roles, keeping only known ones (the column is a plain text[]). */
export function knownRoles(stored: string[]): Role[] {
  return ROLES.filter((r) => stored.includes(r));
}
