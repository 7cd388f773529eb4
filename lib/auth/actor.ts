import { forbidden } from "@/lib/errors";

export const ROLES = ["admin", "reviewer", "manager", "auditor"] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who is calling a lib/ function. Every lib function that reads or mutates
 * takes an Actor and checks it itself, so no entry point (page, server action,
 * route handler, job, script) can skip authorization.
 */
export type Actor =
  | { kind: "user"; userId: string; email: string; name: string; roles: Role[]; principalId: string | null }
  | { kind: "service"; tokenId: string; name: string; scopes: string[] }
  | { kind: "system"; name: string };

/** What each role may do. Kept in one place; docs/SECURITY.md mirrors it. */
export const PERMISSIONS = {
  "inventory:read": ["admin", "reviewer", "manager", "auditor"],
  "inventory:write": ["admin"],
  "findings:read": ["admin", "reviewer", "manager", "auditor"],
  "findings:decide": ["reviewer"],
  "findings:assign": ["reviewer", "admin"],
  "analysis:run": ["admin", "reviewer"],
  "settings:write": ["admin"],
  "proxies:manage": ["admin"],
  "tokens:manage": ["admin"],
  "audit:read": ["admin", "auditor"],
  "reports:export": ["admin", "auditor"],
  "campaigns:manage": ["admin"],
  /** Admins certify only what lands on their own list (as campaign owner, when no one else is eligible). */
  "campaigns:certify": ["admin", "manager", "reviewer"],
  /** Campaign dashboards and completeness evidence (certifiers see their own lists through campaigns:certify). */
  "campaigns:read": ["admin", "auditor"],
  /** One's own notification centre (every signed-in person). */
  "notifications:read": ["admin", "reviewer", "manager", "auditor"],
  "imports:write": ["admin"],
  /** Remediation policies (issue 22): define, preview, enable, roll back. Objections are the owner's and manager's. */
  "policies:manage": ["admin"],
  "discovery:triage": ["admin", "reviewer"],
  /** Create service accounts: admins anywhere, managers for their own team (checked in lib/access). */
  "serviceAccounts:create": ["admin", "manager"],
  /**
   * Issue, rotate and revoke API keys: admins for anyone; otherwise only the owner or the team manager
   * of a service account (checked in lib/access). Service tokens with this scope act for automation.
   */
  "credentials:manage": ["admin", "reviewer", "manager", "auditor"],
  /** Ask for time-boxed access (every signed-in person; for oneself or an owned service account). */
  "access:request": ["admin", "reviewer", "manager", "auditor"],
  /** Approve or deny access requests: reviewers and managers of the API's owning team (admins as fallback). */
  "access:approve": ["admin", "reviewer", "manager"],
  /** SCIM provisioning: service tokens only (no role grants it). */
  scim: [],
  // Service-token scopes only (no role holds them): the proxy's usage push and snapshot pull.
  "usage:ingest": [],
  "proxy:sync": [],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(actor: Actor, permission: Permission): boolean {
  if (actor.kind === "system") return true;
  if (actor.kind === "service") return actor.scopes.includes(permission);
  const allowed: readonly Role[] = PERMISSIONS[permission];
  return actor.roles.some((r) => allowed.includes(r));
}

export function authorize(actor: Actor, permission: Permission): void {
  if (!can(actor, permission)) throw forbidden(`Requires permission ${permission}`);
}

export function actorLabel(actor: Actor): string {
  if (actor.kind === "user") return actor.email;
  if (actor.kind === "service") return `service:${actor.name}`;
  return `system:${actor.name}`;
}

export const systemActor = (name: string): Actor => ({ kind: "system", name });
