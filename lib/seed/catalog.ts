/**
 * The fictional company's API catalogue: which APIs exist, their resources,
 * and which scopes guard them. Endpoints are derived from resources with the
 * usual REST verbs so the catalogue reads like a real one.
 */
export type Level = "read" | "write" | "admin";
export type Sensitivity = "low" | "medium" | "high" | "critical";
export type EnvName = "production" | "staging" | "development";

export interface ApiSpec {
  name: string;
  team: string;
  description: string;
  /** REST collections, e.g. "orders" → GET /orders, GET /orders/{id}, POST /orders, ... */
  resources: string[];
  hasAdmin: boolean;
  sensitivity: Sensitivity;
  /** Extra fine-grained scopes guarding one specific endpoint each. */
  extras?: { scope: string; level: Level; method: string; path: string; sensitivity: Sensitivity }[];
}

export const TEAMS = [
  "Platform", "Checkout", "Payments", "Customer Experience", "Fulfillment", "Finance",
  "Identity", "Data", "Growth", "Security", "Support", "SRE",
] as const;

export const APIS: ApiSpec[] = [
  { name: "orders", team: "Checkout", description: "Order lifecycle", resources: ["orders", "orders/{orderId}/items", "returns"], hasAdmin: true, sensitivity: "medium",
    extras: [{ scope: "orders:cancel", level: "write", method: "POST", path: "/orders/{id}/cancel", sensitivity: "high" }] },
  { name: "payments", team: "Payments", description: "Card and wallet payments", resources: ["payments", "payment-methods"], hasAdmin: true, sensitivity: "high",
    extras: [{ scope: "payments:refunds", level: "write", method: "POST", path: "/payments/{id}/refunds", sensitivity: "critical" }] },
  { name: "customers", team: "Customer Experience", description: "Customer profiles and addresses", resources: ["customers", "customers/{customerId}/addresses"], hasAdmin: true, sensitivity: "high",
    extras: [{ scope: "customers:pii:export", level: "read", method: "GET", path: "/customers/{id}/export", sensitivity: "critical" }] },
  { name: "inventory", team: "Fulfillment", description: "Stock levels per warehouse", resources: ["items", "warehouses"], hasAdmin: false, sensitivity: "low" },
  { name: "shipping", team: "Fulfillment", description: "Shipments and carrier labels", resources: ["shipments", "labels"], hasAdmin: false, sensitivity: "medium" },
  { name: "billing", team: "Finance", description: "Invoices and subscriptions", resources: ["invoices", "subscriptions"], hasAdmin: true, sensitivity: "high",
    extras: [{ scope: "billing:credits", level: "write", method: "POST", path: "/invoices/{id}/credits", sensitivity: "high" }] },
  { name: "identity", team: "Identity", description: "Users, sessions and MFA", resources: ["users", "sessions"], hasAdmin: true, sensitivity: "critical",
    extras: [{ scope: "identity:mfa:reset", level: "admin", method: "POST", path: "/users/{id}/mfa/reset", sensitivity: "critical" }] },
  { name: "notifications", team: "Growth", description: "Email, SMS and push", resources: ["messages", "templates"], hasAdmin: false, sensitivity: "low" },
  { name: "search", team: "Data", description: "Product and order search", resources: ["queries", "indexes"], hasAdmin: false, sensitivity: "low" },
  { name: "analytics", team: "Data", description: "Events and dashboards", resources: ["events", "dashboards"], hasAdmin: false, sensitivity: "medium",
    extras: [{ scope: "analytics:raw:read", level: "read", method: "GET", path: "/events/raw", sensitivity: "high" }] },
  { name: "reports", team: "Finance", description: "Scheduled financial reports", resources: ["reports", "schedules"], hasAdmin: true, sensitivity: "medium",
    extras: [{ scope: "reports:export", level: "read", method: "GET", path: "/reports/{id}/export", sensitivity: "high" }] },
  { name: "admin", team: "Platform", description: "Back-office administration", resources: ["feature-flags", "tenants"], hasAdmin: true, sensitivity: "critical" },
];

/** APIs also deployed outside production (smaller surface: first resource only). */
export const NON_PROD_APIS = ["orders", "payments", "customers"];

export const ENVIRONMENTS: { name: EnvName; tier: EnvName }[] = [
  { name: "production", tier: "production" },
  { name: "staging", tier: "staging" },
  { name: "development", tier: "development" },
];

export interface EndpointSpec {
  method: string;
  path: string;
  level: Level;
  /** Name of an extra scope required instead of the level scope. */
  extraScope?: string;
  sensitivity: Sensitivity;
}

const bump = (s: Sensitivity): Sensitivity => (s === "low" ? "medium" : s === "medium" ? "high" : "critical");

export function endpointsFor(api: ApiSpec, resources: string[]): EndpointSpec[] {
  const out: EndpointSpec[] = [];
  for (const r of resources) {
    const base = `/${r}`;
    out.push({ method: "GET", path: base, level: "read", sensitivity: api.sensitivity });
    out.push({ method: "GET", path: `${base}/{id}`, level: "read", sensitivity: api.sensitivity });
    out.push({ method: "POST", path: base, level: "write", sensitivity: bump(api.sensitivity) });
    out.push({ method: "PATCH", path: `${base}/{id}`, level: "write", sensitivity: bump(api.sensitivity) });
    out.push({ method: "DELETE", path: `${base}/{id}`, level: api.hasAdmin ? "admin" : "write", sensitivity: "critical" });
  }
  return out;
}
