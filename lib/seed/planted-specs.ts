import type { EnvName } from "./catalog";

/**
 * How each planted principal (see planted.ts for the case index) is built:
 * its status, credentials and grants with their usage history. Days are
 * counted back from the moment the seed runs.
 */
export type UsagePlan =
  | { kind: "never" }
  /** Used most days from `lastDaysAgo` back to the grant date (within the 90-day window). */
  | { kind: "active"; lastDaysAgo?: number; frequency?: number }
  /** Last used `daysAgo` days ago (usage rows only if within 90 days). */
  | { kind: "last"; daysAgo: number };

export interface GrantPlan {
  env: EnvName;
  scope: string;
  grantedDaysAgo: number;
  usage: UsagePlan;
  status?: "active" | "revoked" | "expired";
  /** Negative: already past. */
  expiresInDays?: number;
  revokedDaysAgo?: number;
}

export interface CredentialPlan {
  createdDaysAgo: number;
  rotatedDaysAgo?: number;
  expiresInDays?: number;
  lastUsedDaysAgo?: number;
  revokedDaysAgo?: number;
}

export interface PrincipalPlan {
  externalId: string;
  displayName: string;
  kind: "user" | "service_account" | "api_key";
  team: string;
  homeEnvironment?: EnvName;
  status?: "active" | "suspended" | "deprovisioned";
  statusDaysAgo?: number;
  credentials?: CredentialPlan[];
  grants: GrantPlan[];
}

const active = (env: EnvName, scope: string, grantedDaysAgo = 300): GrantPlan => ({ env, scope, grantedDaysAgo, usage: { kind: "active", lastDaysAgo: 0, frequency: 0.9 } });
const fresh: CredentialPlan = { createdDaysAgo: 60, expiresInDays: 300, lastUsedDaysAgo: 0 };

export const PLANTED_PRINCIPALS: PrincipalPlan[] = [
  // --- demo sign-in users (linked from User rows)
  { externalId: "emp-alex-admin", displayName: "Alex Admin", kind: "user", team: "Security", grants: [active("production", "admin:read"), active("production", "identity:read")] },
  { externalId: "emp-riley-reviewer", displayName: "Riley Reviewer", kind: "user", team: "Security", grants: [
    active("production", "analytics:read"),
    { env: "production", scope: "search:write", grantedDaysAgo: 400, usage: { kind: "last", daysAgo: 130 } },
  ] },
  { externalId: "emp-jordan-reviewer", displayName: "Jordan Reviewer", kind: "user", team: "Security", grants: [active("production", "search:read")] },
  { externalId: "emp-avery-auditor", displayName: "Avery Auditor", kind: "user", team: "Security", grants: [active("production", "reports:read")] },
  // Morgan Manager already exists as the Checkout team's manager; these add grants.
  { externalId: "emp-morgan-manager", displayName: "Morgan Manager", kind: "user", team: "Checkout", grants: [active("production", "orders:read")] },

  // --- dormant
  { externalId: "emp-dormant-dora", displayName: "Dormant Dora", kind: "user", team: "Checkout", grants: [
    { env: "production", scope: "orders:write", grantedDaysAgo: 400, usage: { kind: "last", daysAgo: 140 } },
    { env: "production", scope: "customers:read", grantedDaysAgo: 500, usage: { kind: "last", daysAgo: 200 } },
  ] },
  { externalId: "svc:legacy-export", displayName: "svc-legacy-export", kind: "service_account", team: "Finance", homeEnvironment: "production",
    credentials: [{ createdDaysAgo: 90, expiresInDays: 200, lastUsedDaysAgo: 130 }], grants: [
      { env: "production", scope: "reports:read", grantedDaysAgo: 700, usage: { kind: "last", daysAgo: 250 } },
      { env: "production", scope: "billing:read", grantedDaysAgo: 700, usage: { kind: "last", daysAgo: 130 } },
    ] },
  // --- never used
  { externalId: "emp-never-ned", displayName: "Never Ned", kind: "user", team: "Checkout", grants: [
    { env: "production", scope: "payments:read", grantedDaysAgo: 150, usage: { kind: "never" } },
    { env: "production", scope: "analytics:read", grantedDaysAgo: 300, usage: { kind: "never" } },
  ] },
  // --- write/admin used only for reads
  { externalId: "emp-reader-rita", displayName: "Reader Rita", kind: "user", team: "Checkout", grants: [
    active("production", "payments:read", 200),
    { env: "production", scope: "payments:write", grantedDaysAgo: 200, usage: { kind: "never" } },
  ] },
  { externalId: "svc:report-builder", displayName: "svc-report-builder", kind: "service_account", team: "Finance", homeEnvironment: "production", credentials: [fresh], grants: [
    active("production", "reports:read", 180),
    { env: "production", scope: "reports:write", grantedDaysAgo: 180, usage: { kind: "never" } },
  ] },
  { externalId: "emp-admin-andy", displayName: "Admin-reader Andy", kind: "user", team: "Customer Experience", grants: [
    active("production", "customers:read", 250),
    { env: "production", scope: "customers:admin", grantedDaysAgo: 250, usage: { kind: "never" } },
  ] },
  // --- deprovisioned but still holding active grants
  { externalId: "emp-departed-dave", displayName: "Departed Dave", kind: "user", team: "Checkout", status: "deprovisioned", statusDaysAgo: 45, grants: [
    { env: "production", scope: "orders:read", grantedDaysAgo: 600, usage: { kind: "active", lastDaysAgo: 50, frequency: 0.8 } },
    { env: "production", scope: "orders:write", grantedDaysAgo: 600, usage: { kind: "last", daysAgo: 52 } },
  ] },
  { externalId: "emp-former-fiona", displayName: "Former Fiona", kind: "user", team: "Payments", status: "deprovisioned", statusDaysAgo: 10, grants: [
    { env: "production", scope: "payments:admin", grantedDaysAgo: 365, usage: { kind: "active", lastDaysAgo: 12, frequency: 0.5 } },
  ] },
  // --- suspended
  { externalId: "emp-suspended-sam", displayName: "Suspended Sam", kind: "user", team: "Checkout", status: "suspended", statusDaysAgo: 20, grants: [
    { env: "production", scope: "shipping:write", grantedDaysAgo: 300, usage: { kind: "active", lastDaysAgo: 22, frequency: 0.7 } },
  ] },
  // --- stale credentials
  { externalId: "svc:batch-legacy", displayName: "svc-batch-legacy", kind: "service_account", team: "Finance", homeEnvironment: "production",
    credentials: [{ createdDaysAgo: 400, lastUsedDaysAgo: 1 }], grants: [active("production", "billing:read", 400)] },
  { externalId: "key:partner-oldco", displayName: "partner-oldco", kind: "api_key", team: "Fulfillment", homeEnvironment: "production",
    credentials: [{ createdDaysAgo: 200, rotatedDaysAgo: 100, expiresInDays: -20, lastUsedDaysAgo: 21 }], grants: [
      { env: "production", scope: "shipping:read", grantedDaysAgo: 200, usage: { kind: "active", lastDaysAgo: 21, frequency: 0.9 } },
    ] },
  // --- development principals holding production grants
  { externalId: "svc:dev-sandbox", displayName: "svc-dev-sandbox", kind: "service_account", team: "Checkout", homeEnvironment: "development", credentials: [fresh], grants: [
    active("development", "orders:read", 120),
    active("production", "orders:write", 120),
    active("production", "customers:read", 120),
  ] },
  { externalId: "key:dev-tools", displayName: "dev-tools-key", kind: "api_key", team: "Platform", homeEnvironment: "development", credentials: [fresh], grants: [
    active("development", "payments:read", 100),
    active("production", "payments:read", 100),
  ] },
  // --- service account with an admin scope
  { externalId: "svc:ops-automation", displayName: "svc-ops-automation", kind: "service_account", team: "SRE", homeEnvironment: "production", credentials: [fresh], grants: [
    active("production", "admin:admin", 300),
    active("production", "admin:read", 300),
  ] },
  // --- expired but still active
  { externalId: "emp-contractor-carl", displayName: "Contractor Carl", kind: "user", team: "Checkout", grants: [
    { env: "production", scope: "orders:read", grantedDaysAgo: 100, expiresInDays: -10, usage: { kind: "active", lastDaysAgo: 11, frequency: 0.8 } },
    { env: "production", scope: "shipping:read", grantedDaysAgo: 100, expiresInDays: -3, usage: { kind: "active", lastDaysAgo: 4, frequency: 0.8 } },
  ] },
  // --- healthy: every grant used as granted
  { externalId: "emp-healthy-hannah", displayName: "Healthy Hannah", kind: "user", team: "Checkout", grants: [
    active("production", "orders:read"), active("production", "orders:write"), active("production", "customers:read"),
  ] },
  { externalId: "svc:healthy-billing", displayName: "svc-healthy-billing", kind: "service_account", team: "Finance", homeEnvironment: "production",
    credentials: [{ createdDaysAgo: 20, expiresInDays: 340, lastUsedDaysAgo: 0 }], grants: [active("production", "billing:read"), active("production", "billing:write")] },
  { externalId: "key:partner-healthy-logistics", displayName: "partner-healthy-logistics", kind: "api_key", team: "Fulfillment", homeEnvironment: "production",
    credentials: [{ createdDaysAgo: 30, expiresInDays: 330, lastUsedDaysAgo: 0 }], grants: [active("production", "shipping:read"), active("production", "shipping:write")] },
];
