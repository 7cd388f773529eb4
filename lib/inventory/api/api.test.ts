import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { errorBody } from "@/lib/auth/http";
import type { PrismaClient } from "@/lib/db";
import { makeReviewer } from "@/lib/analysis/fixtures";
import { seedDemo } from "@/lib/seed/demo";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { runOperation } from "./http";
import { OPERATIONS } from "./operations";

// The inventory API against a real Postgres with the demo inventory: through the real
// route modules with service tokens, and through the same operation runner with
// signed-in users of each role (a session needs Next's request context; e2e covers that).

type Handler = (req: Request, ctx: { params: Promise<{ id?: string }> }) => Promise<Response>;
type Reply = { status: number; body: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON answers

let tdb: TestDatabase;
let client: PrismaClient;
const tokens: Record<"read" | "write" | "both" | "other", string> = { read: "", write: "", both: "", other: "" };
const users: Record<"admin" | "reviewer" | "manager" | "auditor", Actor> = {} as never;

beforeAll(async () => {
  tdb = await createTestDatabase();
  process.env.DATABASE_URL = tdb.url;
  client = (await import("@/lib/db")).db();
  await seedDemo(client);
  const { createServiceToken } = await import("@/lib/auth/service-tokens");
  const make = async (scopes: string[]) => (await createServiceToken(systemActor("test"), { name: scopes.join("+"), scopes })).token;
  tokens.read = await make(["inventory:read"]);
  tokens.write = await make(["inventory:write"]);
  tokens.both = await make(["inventory:read", "inventory:write"]);
  tokens.other = await make(["usage:ingest"]);
  for (const role of ["admin", "reviewer", "manager", "auditor"] as const) users[role] = (await makeReviewer(client, [role])).actor;
}, 120_000);
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

const MODULES: Record<string, () => Promise<unknown>> = {
  "/principals": () => import("@/app/api/v1/principals/route"),
  "/principals/{id}": () => import("@/app/api/v1/principals/[id]/route"),
  "/credentials": () => import("@/app/api/v1/credentials/route"),
  "/credentials/{id}": () => import("@/app/api/v1/credentials/[id]/route"),
  "/grants": () => import("@/app/api/v1/grants/route"),
  "/grants/{id}": () => import("@/app/api/v1/grants/[id]/route"),
  "/apis": () => import("@/app/api/v1/apis/route"),
  "/apis/{id}": () => import("@/app/api/v1/apis/[id]/route"),
  "/endpoints": () => import("@/app/api/v1/endpoints/route"),
  "/endpoints/{id}": () => import("@/app/api/v1/endpoints/[id]/route"),
  "/scopes": () => import("@/app/api/v1/scopes/route"),
  "/scopes/{id}": () => import("@/app/api/v1/scopes/[id]/route"),
};

/** "/grants/abc?x=1" → the route module's handler (as Next serves it) and its id. */
async function route(method: string, url: string): Promise<{ handler: Handler; id?: string; path: string }> {
  const [resource, id] = url.split("?")[0].split("/").filter(Boolean);
  const path = id === undefined ? `/${resource}` : `/${resource}/{id}`;
  const mod = (await MODULES[path]()) as Record<string, Handler>;
  return { handler: mod[method], id, path };
}

const request = (method: string, url: string, headers: Record<string, string>, body?: unknown) =>
  new Request(`http://localhost/api/v1${url}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });

/** With a service token, through the route module Next serves. */
async function asToken(token: keyof typeof tokens | string, method: string, url: string, body?: unknown): Promise<Reply> {
  const { handler, id } = await route(method, url);
  const res = await handler(request(method, url, { authorization: `Bearer ${tokens[token as keyof typeof tokens] ?? token}` }, body), { params: Promise.resolve({ id }) });
  return { status: res.status, body: await res.json() };
}

/** As a signed-in user: the same operation, with the actor the session would give. */
async function asUser(actor: Actor, method: string, url: string, body?: unknown): Promise<Reply> {
  const { id, path } = await route(method, url);
  const op = OPERATIONS.find((o) => o.method === method && o.path === path)!;
  try {
    const res = await runOperation(op, actor, request(method, url, {}, body), id);
    return { status: res.status, body: await res.json() };
  } catch (e) {
    const { status, body: b } = errorBody(e);
    return { status, body: b };
  }
}

/** Every page of a list, following nextCursor. */
async function walk(url: string, limit: number): Promise<{ ids: string[]; pages: number; rows: any[] }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON rows
  const rows = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = url.includes("?") ? "&" : "?";
    const r = await asToken("read", "GET", `${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(r.status).toBe(200);
    expect(r.body.data.length).toBeLessThanOrEqual(limit);
    rows.push(...r.body.data);
    cursor = r.body.nextCursor;
    pages++;
  } while (cursor);
  return { ids: rows.map((r) => r.id), pages, rows };
}

describe("lists: cursor pagination covers every row once, filters match the database", () => {
  it("each resource, walked page by page", { timeout: 120_000 }, async () => {
    const counts = {
      principals: await client.principal.count(),
      credentials: await client.credential.count(),
      grants: await client.grant.count(),
      apis: await client.api.count(),
      endpoints: await client.endpoint.count(),
      scopes: await client.scope.count(),
    };
    for (const [resource, n] of Object.entries(counts)) {
      expect(n, resource).toBeGreaterThan(3);
      const limit = Math.min(200, Math.max(2, Math.ceil(n / 4)));
      const { ids, pages } = await walk(`/${resource}`, limit);
      expect(ids.length, resource).toBe(n);
      expect(new Set(ids).size, resource).toBe(n);
      expect(pages, resource).toBe(Math.ceil(n / limit));
    }
  });

  it("grants: the dashboard's filters (environment, status, kind, level, API, search)", { timeout: 60_000 }, async () => {
    const prod = await walk("/grants?environment=production&status=active", 200);
    expect(prod.ids.length).toBe(await client.grant.count({ where: { status: "active", environment: { name: "production" } } }));
    expect(prod.rows.every((g) => g.environment === "production" && g.status === "active")).toBe(true);
    const svcAdmin = await walk("/grants?kind=service_account&level=admin", 200);
    expect(svcAdmin.ids.length).toBe(await client.grant.count({ where: { principal: { kind: "service_account" }, scope: { level: "admin" } } }));
    const payments = await client.api.findFirstOrThrow({ where: { name: "payments", environment: { name: "production" } } });
    const byApi = await walk(`/grants?api=${payments.id}`, 200);
    expect(byApi.ids.length).toBe(await client.grant.count({ where: { scope: { apiId: payments.id } } }));
    const hannah = await walk("/grants?q=healthy.hannah%40", 200);
    expect(hannah.ids.length).toBe(3);
    const never = await walk("/grants?lastUsed=never", 200);
    expect(never.ids.length).toBe(await client.grant.count({ where: { lastUsedAt: null } }));
  });

  it("principals, credentials, APIs, endpoints and scopes filters", { timeout: 60_000 }, async () => {
    expect((await walk("/principals?kind=service_account", 100)).ids.length).toBe(await client.principal.count({ where: { kind: "service_account" } }));
    expect((await walk("/principals?status=deprovisioned", 100)).ids.length).toBe(await client.principal.count({ where: { status: "deprovisioned" } }));
    const dora = await walk("/principals?q=DORMANT%20dora", 100);
    expect(dora.rows.map((p) => p.displayName)).toEqual(["Dormant Dora"]);
    expect((await walk("/credentials?status=revoked", 100)).ids.length).toBe(await client.credential.count({ where: { revokedAt: { not: null } } }));
    const expired = await walk("/credentials?status=expired", 100);
    expect(expired.ids.length).toBeGreaterThan(0);
    expect(expired.rows.every((c) => c.status === "expired" && new Date(c.expiresAt).getTime() <= Date.now())).toBe(true);
    expect((await walk("/apis?environment=production", 100)).ids.length).toBe(await client.api.count({ where: { environment: { name: "production" } } }));
    const orders = await client.api.findFirstOrThrow({ where: { name: "orders", environment: { name: "production" } } });
    const endpoints = await walk(`/endpoints?api=${orders.id}&method=GET`, 100);
    expect(endpoints.ids.length).toBe(await client.endpoint.count({ where: { apiId: orders.id, method: "GET" } }));
    const get = endpoints.rows.find((e) => e.pathTemplate === "/orders");
    const read = await client.scope.findFirstOrThrow({ where: { apiId: orders.id, name: "orders:read" } });
    expect(get.requirements).toEqual([[read.id]]);
    expect((await walk("/endpoints?public=true", 100)).ids.length).toBe(await client.endpoint.count({ where: { public: true } }));
    const admins = await walk("/scopes?level=admin", 100);
    expect(admins.ids.length).toBe(await client.scope.count({ where: { level: "admin" } }));
    expect(admins.rows.every((s) => s.level === "admin")).toBe(true);
  });

  it("read one row; unknown and malformed ids are 404", async () => {
    const p = await client.principal.findFirstOrThrow({ where: { externalId: "emp-healthy-hannah" } });
    const r = await asToken("read", "GET", `/principals/${p.id}`);
    expect(r).toMatchObject({ status: 200, body: { id: p.id, displayName: "Healthy Hannah", kind: "user" } });
    expect((await asToken("read", "GET", "/grants/00000000-0000-4000-8000-000000000000")).status).toBe(404);
    expect((await asToken("read", "GET", "/scopes/..%2F..%2Fetc")).status).toBe(404);
  });
});

describe("bad input: 400 naming every field with a JSON pointer, nothing written", () => {
  it("query parameters", async () => {
    const r = await asToken("read", "GET", "/grants?limit=0&status=bogus");
    expect(r.status).toBe(400);
    expect(r.body.error.issues.map((i: { pointer: string }) => i.pointer).sort()).toEqual(["/query/limit", "/query/status"]);
    const unknown = await asToken("read", "GET", "/principals?colour=red");
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain("colour");
    expect((await asToken("read", "GET", "/apis?cursor=not-a-cursor")).body.error).toMatchObject({ code: "bad_request", field: "cursor" });
    expect((await asToken("read", "GET", "/apis?limit=1&limit=2")).status).toBe(400);
  });

  it("bodies: wrong types, unknown fields, malformed JSON", async () => {
    const before = await client.grant.count();
    const r = await asToken("both", "POST", "/grants", { principalId: "x", expiresAt: "yesterday", extra: 1 });
    expect(r.status).toBe(400);
    const pointers = r.body.error.issues.map((i: { pointer: string }) => i.pointer).sort();
    expect(pointers).toEqual(["/body", "/body/expiresAt", "/body/principalId", "/body/scopeId"]);
    expect(r.body.error.issues.find((i: { pointer: string }) => i.pointer === "/body").message).toContain("extra");
    expect((await asToken("both", "POST", "/grants", "{")).body.error).toMatchObject({ code: "bad_request" });
    expect(await client.grant.count()).toBe(before);
  });
});

describe("authentication and roles (permission matrix) and token scopes", () => {
  const apiBody = async (name: string) => ({ name, environmentId: (await client.environment.findFirstOrThrow({ where: { name: "staging" } })).id, baseUrl: "https://billing.internal.example" });

  it("every role reads; only admins write; refusals write nothing", async () => {
    for (const role of ["admin", "reviewer", "manager", "auditor"] as const) expect((await asUser(users[role], "GET", "/apis?limit=1")).status, role).toBe(200);
    const before = await client.api.count();
    for (const role of ["reviewer", "manager", "auditor"] as const) {
      const r = await asUser(users[role], "POST", "/apis", await apiBody(`refused-${role}`));
      expect(r.status, role).toBe(403);
    }
    expect(await client.api.count()).toBe(before);
    const noRoles = (await makeReviewer(client, [])).actor;
    expect((await asUser(noRoles, "GET", "/principals")).status).toBe(403);
    const created = await asUser(users.admin, "POST", "/apis", await apiBody("billing-by-admin"));
    expect(created.status).toBe(201);
    const audit = await client.auditEvent.findFirstOrThrow({ where: { action: "inventory.api_create", target: `api:${created.body.data.id}` } });
    expect(audit.actor).toBe((users.admin as { email: string }).email);
  });

  it("service tokens: inventory:read reads, inventory:write writes, other scopes and bad tokens are refused", async () => {
    expect((await asToken("read", "GET", "/scopes?limit=1")).status).toBe(200);
    expect((await asToken("read", "POST", "/apis", await apiBody("by-reader"))).status).toBe(403);
    expect((await asToken("write", "GET", "/scopes")).status).toBe(403);
    const w = await asToken("write", "POST", "/apis", await apiBody("by-writer"));
    expect(w.status).toBe(201);
    expect(w.body.data.name).toBe("by-writer"); // a write-only token sees what it wrote
    expect((await asToken("other", "GET", "/grants")).status).toBe(403);
    expect((await asToken(`tgs_${"a".repeat(43)}`, "GET", "/grants")).status).toBe(401);
  });
});

describe("writes per resource: create, update, revoke/delete, with 409 on conflicts", () => {
  let apiId: string;
  let scopeId: string;
  let principalId: string;

  it("APIs", async () => {
    const env = await client.environment.findFirstOrThrow({ where: { name: "production" } });
    const c = await asToken("both", "POST", "/apis", { name: "ledger", environmentId: env.id, baseUrl: "https://ledger.internal.example", description: "General ledger" });
    expect(c.status).toBe(201);
    apiId = c.body.data.id;
    expect(c.body.data).toMatchObject({ name: "ledger", environment: "production", description: "General ledger" });
    expect((await asToken("both", "POST", "/apis", { name: "ledger", environmentId: env.id, baseUrl: "https://x.example" })).status).toBe(409);
    const u = await asToken("both", "PATCH", `/apis/${apiId}`, { description: "The ledger" });
    expect(u).toMatchObject({ status: 200, body: { data: { description: "The ledger" } } });
    expect((await asToken("both", "PATCH", `/apis/${apiId}`, { baseUrl: "ftp://nope" })).body.error.issues[0].pointer).toBe("/body/baseUrl");
    const doomed = await asToken("both", "POST", "/apis", { name: "doomed", environmentId: env.id, baseUrl: "https://doomed.example" });
    expect((await asToken("both", "DELETE", `/apis/${doomed.body.data.id}`)).status).toBe(200);
    expect((await asToken("both", "GET", `/apis/${doomed.body.data.id}`)).status).toBe(404);
    const payments = await client.api.findFirstOrThrow({ where: { name: "payments", environment: { name: "production" } } });
    expect((await asToken("both", "DELETE", `/apis/${payments.id}`)).status).toBe(409); // it has grants
    expect(await client.api.count({ where: { id: payments.id } })).toBe(1);
  });

  it("scopes", async () => {
    const c = await asToken("both", "POST", "/scopes", { apiId, name: "ledger:read", level: "read" });
    expect(c.status).toBe(201);
    scopeId = c.body.data.id;
    expect(c.body.data.levelSetBy).toBe("service:inventory:read+inventory:write");
    expect((await asToken("both", "POST", "/scopes", { apiId, name: "ledger:read", level: "write" })).status).toBe(409);
    const u = await asToken("both", "PATCH", `/scopes/${scopeId}`, { description: "Read the ledger" });
    expect(u.body.data.description).toBe("Read the ledger");
    const spare = await asToken("both", "POST", "/scopes", { apiId, name: "ledger:spare", level: "admin" });
    expect((await asToken("both", "DELETE", `/scopes/${spare.body.data.id}`)).status).toBe(200);
  });

  it("endpoints: requirements name scopes of the same API; a refused write leaves nothing", async () => {
    const foreign = await client.scope.findFirstOrThrow({ where: { name: "orders:read" } });
    const before = await client.endpoint.count();
    const bad = await asToken("both", "POST", "/endpoints", { apiId, method: "GET", pathTemplate: "/entries", requirements: [[foreign.id]] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("requirements");
    expect(await client.endpoint.count()).toBe(before);
    expect((await asToken("both", "POST", "/endpoints", { apiId, method: "GET", pathTemplate: "/a/../b" })).body.error.issues[0].pointer).toBe("/body/pathTemplate");
    const c = await asToken("both", "POST", "/endpoints", { apiId, method: "GET", pathTemplate: "/entries/{id}", requirements: [[scopeId]] });
    expect(c.status).toBe(201);
    expect(c.body.data.requirements).toEqual([[scopeId]]);
    expect((await asToken("both", "POST", "/endpoints", { apiId, method: "GET", pathTemplate: "/entries/{id}" })).status).toBe(409);
    const u = await asToken("both", "PATCH", `/endpoints/${c.body.data.id}`, { sensitivity: "high", summary: "One entry" });
    expect(u.body.data).toMatchObject({ sensitivity: "high", summary: "One entry", requirements: [[scopeId]] });
    expect((await asToken("both", "DELETE", `/scopes/${scopeId}`)).status).toBe(409); // the endpoint requires it
    expect((await asToken("both", "DELETE", `/endpoints/${c.body.data.id}`)).status).toBe(200);
    expect(await client.endpoint.count({ where: { id: c.body.data.id } })).toBe(0);
  });

  it("principals: create, update, externalId conflict, deprovision", async () => {
    const env = await client.environment.findFirstOrThrow({ where: { name: "production" } });
    const c = await asToken("both", "POST", "/principals", { kind: "service_account", displayName: "ledger-sync", externalId: "svc:ledger-sync", homeEnvironmentId: env.id });
    expect(c.status).toBe(201);
    principalId = c.body.data.id;
    expect((await asToken("both", "POST", "/principals", { kind: "user", displayName: "dup", externalId: "svc:ledger-sync" })).status).toBe(409);
    const u = await asToken("both", "PATCH", `/principals/${principalId}`, { displayName: "ledger-sync-bot" });
    expect(u.body.data.displayName).toBe("ledger-sync-bot");
    expect((await asToken("both", "PATCH", `/principals/${principalId}`, { managerId: principalId })).status).toBe(400);
    const temp = await asToken("both", "POST", "/principals", { kind: "api_key", displayName: "temp key holder" });
    const d = await asToken("both", "DELETE", `/principals/${temp.body.data.id}`);
    expect(d.body.data.status).toBe("deprovisioned");
    expect((await asToken("both", "DELETE", `/principals/${temp.body.data.id}`)).status).toBe(409);
  });

  it("grants: create, conflict, update expiry, revoke (an access change each), revoked twice is 409", async () => {
    const c = await asToken("both", "POST", "/grants", { principalId, scopeId });
    expect(c.status).toBe(201);
    expect(c.body.data).toMatchObject({ principalId, scopeId, status: "active", origin: "api" });
    expect(c.body.changeId).toEqual(expect.any(String));
    expect((await asToken("both", "POST", "/grants", { principalId, scopeId })).status).toBe(409);
    const until = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const u = await asToken("both", "PATCH", `/grants/${c.body.data.id}`, { expiresAt: until });
    expect(new Date(u.body.data.expiresAt).toISOString()).toBe(until);
    const r = await asToken("both", "DELETE", `/grants/${c.body.data.id}`);
    expect(r.body.data.status).toBe("revoked");
    const change = await client.accessChange.findUniqueOrThrow({ where: { id: r.body.changeId } });
    expect(change).toMatchObject({ kind: "revoke_grant", grantIds: [c.body.data.id] });
    expect((await asToken("both", "DELETE", `/grants/${c.body.data.id}`)).status).toBe(409);
    expect(await client.auditEvent.count({ where: { target: `grant:${c.body.data.id}` } })).toBe(3);
    // A revoked grant is given again by creating it: the same row, active.
    const again = await asToken("both", "POST", "/grants", { principalId, scopeId });
    expect(again.body.data).toMatchObject({ id: c.body.data.id, status: "active" });
  });

  it("credentials: issue (key shown once), change expiry, revoke", async () => {
    const c = await asToken("both", "POST", "/credentials", { principalId });
    expect(c.status).toBe(201);
    expect(c.body.key).toMatch(/^tg_prod_/);
    expect(c.body.data).toMatchObject({ principalId, status: "active", origin: "issued" });
    expect(JSON.stringify((await asToken("both", "GET", `/credentials/${c.body.data.id}`)).body)).not.toContain(c.body.key);
    const until = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const u = await asToken("both", "PATCH", `/credentials/${c.body.data.id}`, { expiresAt: until });
    expect(u.body.data.expiresAt).toBe(until);
    expect((await client.accessChange.findUniqueOrThrow({ where: { id: u.body.changeId } })).kind).toBe("change_key");
    const r = await asToken("both", "DELETE", `/credentials/${c.body.data.id}`);
    expect(r.body.data.status).toBe("revoked");
    expect((await asToken("both", "DELETE", `/credentials/${c.body.data.id}`)).status).toBe(409);
    expect((await asToken("both", "PATCH", `/credentials/${c.body.data.id}`, { expiresAt: null })).status).toBe(409);
  });
});
