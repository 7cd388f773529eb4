import { beforeAll, describe, expect, test } from "vitest";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { AppError } from "@/lib/errors";
import { seedDemo } from "@/lib/seed/demo";
import { useTestDatabase } from "@/test/support/use-test-database";
import { getApi, getOverview, getPrincipal, listApis, listGrants as listGrantsWithBudget, parseGrantsQuery } from "@/lib/inventory";

// A generous count budget: on a loaded CI machine the default (300 ms) could
// turn an exact total into "unknown"; the fallback itself is tested in seed.test.ts.
const listGrants: typeof listGrantsWithBudget = (a, p, c, o) => listGrantsWithBudget(a, p, c, { countBudgetMs: 30_000, ...o });

const ctx = useTestDatabase(4);
const actor = systemActor("test");
const DAY = 86_400_000;

beforeAll(async () => {
  await seedDemo(ctx.client);
});

const principalId = async (externalId: string) => (await ctx.client.principal.findUniqueOrThrow({ where: { externalId } })).id;

describe("grants URL parser", () => {
  test("junk values fall back to defaults instead of failing", () => {
    const q = parseGrantsQuery({ page: "-3", sort: "drop", perPage: "99999", dir: "sideways", status: "bogus", api: "not-a-uuid", lastUsed: "yesterday", q: "" });
    expect(q).toMatchObject({ page: 1, perPage: 25, sort: "grantedAt", dir: "desc" });
    expect(q.status).toBeUndefined();
    expect(q.api).toBeUndefined();
    expect(q.lastUsed).toBeUndefined();
    expect(q.q).toBeUndefined();
  });
  test("control characters and lone surrogates are dropped from the search text", () => {
    expect(parseGrantsQuery({ q: "\u0000" }).q).toBeUndefined();
    expect(parseGrantsQuery({ q: "ali\u0000ce\ud800" }).q).toBe("alice");
    expect(parseGrantsQuery(new URLSearchParams("q=%00%27%22%3Cscript%3E")).q).toBe(`'"<script>`);
  });
  test("valid values are kept; repeated params use the first", () => {
    const q = parseGrantsQuery(new URLSearchParams("page=3&perPage=50&sort=lastUsedAt&dir=asc&status=active&status=revoked&environment=production"));
    expect(q).toMatchObject({ page: 3, perPage: 50, sort: "lastUsedAt", dir: "asc", status: "active", environment: "production" });
  });
});

describe("listGrants", () => {
  test("first page: newest grants first, bounded page size, exact total under the cap", async () => {
    const page = await listGrants(actor, {}, ctx.client);
    expect(page.rows).toHaveLength(25);
    expect(page.total).toBe(await ctx.client.grant.count());
    expect(page.totalCapped).toBe(false);
    const times = page.rows.map((r) => r.grantedAt.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  test("a search with NUL bytes, quotes and markup is a plain (empty) search, not a database error", async () => {
    const page = await listGrants(actor, { q: "\u0000'\"<script>%_" }, ctx.client);
    expect(page.rows).toEqual([]);
  });

  test("junk query string gives a sane first page, and a page past the end gives the last page", async () => {
    const junk = await listGrants(actor, { page: "-3", sort: "drop", perPage: "99999" }, ctx.client);
    expect(junk.page).toBe(1);
    expect(junk.rows).toHaveLength(25);
    const far = await listGrants(actor, { page: "99999", status: "expired" }, ctx.client);
    expect(far.page).toBe(far.pageCount);
    expect(far.rows.length).toBeGreaterThan(0);
  });

  test("environment + status filter matches a direct count, every row qualifies", async () => {
    const page = await listGrants(actor, { environment: "production", status: "active", perPage: "100" }, ctx.client);
    const expected = await ctx.client.grant.count({ where: { status: "active", environment: { name: "production" } } });
    expect(page.total).toBe(expected);
    expect(page.rows.every((r) => r.environment === "production" && r.status === "active")).toBe(true);
  });

  test("kind, level and API filters", async () => {
    const svcAdmin = await listGrants(actor, { kind: "service_account", level: "admin" }, ctx.client);
    expect(svcAdmin.rows.length).toBeGreaterThan(0);
    expect(svcAdmin.rows.every((r) => r.principalKind === "service_account" && r.scopeLevel === "admin")).toBe(true);
    expect(svcAdmin.rows.some((r) => r.principalExternalId === "svc:ops-automation")).toBe(true);

    const payments = await ctx.client.api.findFirstOrThrow({ where: { name: "payments", environment: { name: "production" } } });
    const byApi = await listGrants(actor, { api: payments.id, perPage: "100" }, ctx.client);
    expect(byApi.total).toBe(await ctx.client.grant.count({ where: { scope: { apiId: payments.id } } }));
    expect(byApi.rows.every((r) => r.apiId === payments.id)).toBe(true);
  });

  test("last-used buckets", async () => {
    const never = await listGrants(actor, { lastUsed: "never", perPage: "100" }, ctx.client);
    expect(never.total).toBe(await ctx.client.grant.count({ where: { lastUsedAt: null } }));
    expect(never.rows.every((r) => r.lastUsedAt === null)).toBe(true);
    const old = await listGrants(actor, { lastUsed: "gt90", perPage: "100" }, ctx.client);
    expect(old.rows.length).toBeGreaterThan(0);
    expect(old.rows.every((r) => r.lastUsedAt !== null && r.lastUsedAt.getTime() < Date.now() - 90 * DAY)).toBe(true);
    const recent = await listGrants(actor, { lastUsed: "lt7", perPage: "100" }, ctx.client);
    expect(recent.rows.every((r) => r.lastUsedAt !== null && r.lastUsedAt.getTime() >= Date.now() - 7 * DAY - 60_000)).toBe(true);
  });

  test("principal search is case-insensitive on name, external id and email, and treats % literally", async () => {
    const byName = await listGrants(actor, { q: "DORMANT dora" }, ctx.client);
    expect(byName.rows.map((r) => r.principalName)).toEqual(expect.arrayContaining(["Dormant Dora"]));
    expect(byName.rows.every((r) => r.principalName === "Dormant Dora")).toBe(true);
    const byExt = await listGrants(actor, { q: "ops-automation" }, ctx.client);
    expect(byExt.rows.every((r) => r.principalExternalId === "svc:ops-automation")).toBe(true);
    expect(byExt.total).toBe(2);
    const byEmail = await listGrants(actor, { q: "healthy.hannah@" }, ctx.client);
    expect(byEmail.total).toBe(3);
    const wildcard = await listGrants(actor, { q: "%" }, ctx.client);
    expect(wildcard.total).toBe(0);
  });

  test("sorting: last used ascending puts never-used first; principal name ascending", async () => {
    const lu = await listGrants(actor, { sort: "lastUsedAt", dir: "asc", status: "active", perPage: "100" }, ctx.client);
    expect(lu.rows[0].lastUsedAt).toBeNull();
    const used = await listGrants(actor, { sort: "lastUsedAt", dir: "asc", lastUsed: "gt90", perPage: "100" }, ctx.client);
    const t = used.rows.map((r) => r.lastUsedAt!.getTime());
    expect([...t].sort((a, b) => a - b)).toEqual(t);
    const byName = await listGrants(actor, { sort: "principal", dir: "asc", perPage: "100", page: "2" }, ctx.client);
    const names = byName.rows.map((r) => r.principalName);
    expect([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(names);
    const desc = await listGrants(actor, { sort: "principal", dir: "desc" }, ctx.client);
    expect(desc.rows[0].principalName >= desc.rows[24].principalName).toBe(true);
  });

  test("pages do not overlap and cover the filter", async () => {
    const filter = { environment: "staging", perPage: "10" };
    const first = await listGrants(actor, { ...filter, page: "1" }, ctx.client);
    const second = await listGrants(actor, { ...filter, page: "2" }, ctx.client);
    const ids = new Set([...first.rows, ...second.rows].map((r) => r.id));
    expect(ids.size).toBe(20);
    expect(first.hasNext).toBe(true);
    const last = await listGrants(actor, { ...filter, page: String(first.pageCount) }, ctx.client);
    expect(last.hasNext).toBe(false);
    expect(last.rows.length).toBe(first.total! - (first.pageCount! - 1) * 10);
  });

  test("a user without an inventory role is refused", async () => {
    const nobody: Actor = { kind: "user", userId: "00000000-0000-4000-8000-000000000000", email: "x@y", name: "x", roles: [], principalId: null };
    await expect(listGrants(nobody, {}, ctx.client)).rejects.toBeInstanceOf(AppError);
    await expect(getOverview(nobody, ctx.client)).rejects.toMatchObject({ code: "forbidden" });
  });
});

describe("overview, APIs, principals", () => {
  test("overview figures agree with the tables", async () => {
    const o = await getOverview(actor, ctx.client);
    expect(o.apis).toBe(await ctx.client.api.count());
    expect(o.endpoints).toBe(await ctx.client.endpoint.count());
    expect(o.principals).toBe(await ctx.client.principal.count());
    expect(o.activeGrants).toBe(await ctx.client.grant.count({ where: { status: "active" } }));
    expect(o.unusedGrants90d).toBeGreaterThan(0);
    expect(o.byEnvironment.map((e) => e.environment)).toEqual(["production", "staging", "development"]);
    const stacked = o.byEnvironment.reduce((n, e) => n + e["< 7 days"] + e["7–30 days"] + e["30–90 days"] + e["> 90 days"] + e["never used"], 0);
    expect(stacked).toBe(o.activeGrants);
  });

  test("API list carries endpoint/scope/grant counts", async () => {
    const apis = await listApis(actor, ctx.client);
    expect(apis).toHaveLength(await ctx.client.api.count());
    const orders = apis.find((a) => a.name === "orders" && a.environment === "production")!;
    expect(orders.endpoints).toBe(await ctx.client.endpoint.count({ where: { apiId: orders.id } }));
    expect(orders.scopes).toBe(await ctx.client.scope.count({ where: { apiId: orders.id } }));
    expect(orders.activeGrants).toBe(await ctx.client.grant.count({ where: { status: "active", scope: { apiId: orders.id } } }));
  });

  test("API detail: endpoints with scopes, holders per scope; bad ids are null", async () => {
    const orders = await ctx.client.api.findFirstOrThrow({ where: { name: "orders", environment: { name: "production" } } });
    const api = (await getApi(actor, orders.id, ctx.client))!;
    expect(api.endpoints.find((e) => e.method === "GET" && e.pathTemplate === "/orders")?.scopes.map((s) => s.name)).toEqual(["orders:read"]);
    const write = api.scopes.find((s) => s.name === "orders:write")!;
    expect(write.activeGrants).toBeGreaterThan(0);
    expect(write.holders.map((h) => h.displayName)).toContain("Healthy Hannah");
    expect(await getApi(actor, "not-a-uuid", ctx.client)).toBeNull();
    expect(await getApi(actor, "00000000-0000-4000-8000-000000000000", ctx.client)).toBeNull();
  });

  test("principal detail: grants, 90-day usage series, credentials", async () => {
    const hannah = (await getPrincipal(actor, await principalId("emp-healthy-hannah"), ctx.client))!;
    expect(hannah.grants).toHaveLength(3);
    expect(hannah.usage).toHaveLength(90);
    expect(hannah.usage.at(-1)!.day).toBe(new Date().toISOString().slice(0, 10));
    expect(hannah.usage.reduce((n, d) => n + d.requests, 0)).toBe(hannah.grants.reduce((n, g) => n + g.requests90d, 0));
    expect(hannah.usage.reduce((n, d) => n + d.requests, 0)).toBeGreaterThan(0);

    const legacy = (await getPrincipal(actor, await principalId("svc:batch-legacy"), ctx.client))!;
    expect(legacy.credentials[0].ageDays).toBeGreaterThan(180);
    const oldco = (await getPrincipal(actor, await principalId("key:partner-oldco"), ctx.client))!;
    expect(oldco.credentials[0].expired).toBe(true);
    expect(await getPrincipal(actor, "../../etc", ctx.client)).toBeNull();
  });
});
