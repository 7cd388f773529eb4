import type { EnvName } from "./catalog";

/**
 * The cases Tollgate exists to catch, planted in the demo company so the
 * analysis (and its tests) can be checked against known answers. Principals
 * are named by externalId; a grant is [principal externalId, environment, scope].
 * Every planted principal also appears with a readable display name in the UI.
 */
export type PlantedGrant = readonly [principal: string, environment: EnvName, scope: string];

export interface PlantedCase {
  description: string;
  principals: readonly string[];
  grants: readonly PlantedGrant[];
}

export const PLANTED = {
  dormant: {
    description: "Active grants with no use in more than 90 days",
    principals: ["emp-dormant-dora", "svc:legacy-export"],
    grants: [
      ["emp-dormant-dora", "production", "orders:write"],
      ["emp-dormant-dora", "production", "customers:read"],
      ["svc:legacy-export", "production", "reports:read"],
      ["svc:legacy-export", "production", "billing:read"],
    ],
  },
  neverUsed: {
    description: "Active grants never used, granted more than 90 days ago",
    principals: ["emp-never-ned"],
    grants: [
      ["emp-never-ned", "production", "payments:read"],
      ["emp-never-ned", "production", "analytics:read"],
    ],
  },
  readOnlyUse: {
    description: "Write/admin scope never used while the read scope on the same API is used (used only for reads)",
    principals: ["emp-reader-rita", "svc:report-builder", "emp-admin-andy"],
    grants: [
      ["emp-reader-rita", "production", "payments:write"],
      ["svc:report-builder", "production", "reports:write"],
      ["emp-admin-andy", "production", "customers:admin"],
    ],
  },
  deprovisionedWithGrants: {
    description: "Deprovisioned users still holding active grants",
    principals: ["emp-departed-dave", "emp-former-fiona"],
    grants: [
      ["emp-departed-dave", "production", "orders:read"],
      ["emp-departed-dave", "production", "orders:write"],
      ["emp-former-fiona", "production", "payments:admin"],
    ],
  },
  suspended: {
    description: "Suspended principals holding active grants",
    principals: ["emp-suspended-sam"],
    grants: [["emp-suspended-sam", "production", "shipping:write"]],
  },
  staleCredential: {
    description: "Credentials not rotated in more than 180 days, or past their expiry and not revoked",
    principals: ["svc:batch-legacy", "key:partner-oldco"],
    grants: [],
  },
  crossEnvironment: {
    description: "Development principals holding production grants",
    principals: ["svc:dev-sandbox", "key:dev-tools"],
    grants: [
      ["svc:dev-sandbox", "production", "orders:write"],
      ["svc:dev-sandbox", "production", "customers:read"],
      ["key:dev-tools", "production", "payments:read"],
    ],
  },
  privilegedService: {
    description: "A service account holding an admin scope",
    principals: ["svc:ops-automation"],
    grants: [["svc:ops-automation", "production", "admin:admin"]],
  },
  expiredActive: {
    description: "Grants past their expiry date whose status is still active",
    principals: ["emp-contractor-carl"],
    grants: [
      ["emp-contractor-carl", "production", "orders:read"],
      ["emp-contractor-carl", "production", "shipping:read"],
    ],
  },
  reviewerOwnGrant: {
    description: "A dormant grant held by the demo reviewer (reviewer@tollgate.test): self-review must be refused",
    principals: ["emp-riley-reviewer"],
    grants: [["emp-riley-reviewer", "production", "search:write"]],
  },
  healthy: {
    description: "Principals whose grants are all active, used as granted, with fresh credentials: nothing to flag",
    principals: ["emp-healthy-hannah", "svc:healthy-billing", "key:partner-healthy-logistics"],
    grants: [
      ["emp-healthy-hannah", "production", "orders:read"],
      ["emp-healthy-hannah", "production", "orders:write"],
      ["emp-healthy-hannah", "production", "customers:read"],
      ["svc:healthy-billing", "production", "billing:read"],
      ["svc:healthy-billing", "production", "billing:write"],
      ["key:partner-healthy-logistics", "production", "shipping:read"],
      ["key:partner-healthy-logistics", "production", "shipping:write"],
    ],
  },
} as const satisfies Record<string, PlantedCase>;

export type PlantedCaseName = keyof typeof PLANTED;

/** Demo sign-in users (password `tollgate-demo`), each linked to a principal. */
export const DEMO_PASSWORD = "tollgate-demo";
export const DEMO_USERS = [
  { email: "admin@tollgate.test", name: "Alex Admin", roles: ["admin"], principal: "emp-alex-admin" },
  { email: "reviewer@tollgate.test", name: "Riley Reviewer", roles: ["reviewer"], principal: "emp-riley-reviewer" },
  { email: "reviewer2@tollgate.test", name: "Jordan Reviewer", roles: ["reviewer"], principal: "emp-jordan-reviewer" },
  { email: "manager@tollgate.test", name: "Morgan Manager", roles: ["manager"], principal: "emp-morgan-manager" },
  { email: "auditor@tollgate.test", name: "Avery Auditor", roles: ["auditor"], principal: "emp-avery-auditor" },
] as const;
