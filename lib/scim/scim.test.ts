import { beforeAll, describe, expect, it } from "vitest";
import { serviceToken } from "@/test/support/use-test-database";
import { BASE, USER, GROUP, ENTERPRISE, PATCH_OP, ERROR, useScim, type ScimRoute } from "@/test/support/scim";

// Drives the real route handlers (app/scim/v2) with Request objects shaped as
// Okta and Microsoft Entra ID send them, against a database of its own.
const ctx = useScim("okta");
let usageToken: string;
let scopeId: string;
let environmentId: string;

beforeAll(async () => {
  usageToken = await serviceToken("proxy", ["usage:ingest"]);
  const env = await ctx.client.environment.create({ data: { name: "production", tier: "production" } });
  environmentId = env.id;
  const api = await ctx.client.api.create({ data: { name: "orders", baseUrl: "https://orders.example", environmentId } });
  scopeId = (await ctx.client.scope.create({ data: { apiId: api.id, name: "orders:write", level: "write" } })).id;
});

async function call(method: keyof ScimRoute, path: string, body?: unknown, auth: string | null = `Bearer ${ctx.token}`) {
  const headers: Record<string, string> = { accept: "application/scim+json" };
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers["content-type"] = "application/scim+json; charset=utf-8";
  const res = await ctx.route[method](new Request(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) }));
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), body: text ? JSON.parse(text) : null, headers: res.headers };
}

async function snapshot() {
  const principals = await ctx.client.principal.findMany({ orderBy: { id: "asc" } });
  const teams = await ctx.client.team.findMany({ orderBy: { id: "asc" } });
  return JSON.stringify({ principals, teams, audit: await ctx.client.auditEvent.count() });
}

describe("Okta", () => {
  let id: string;
  const oktaUser = {
    schemas: [USER],
    userName: "test.user@okta.local",
    name: { givenName: "Test", familyName: "User" },
    emails: [{ primary: true, value: "test.user@okta.local", type: "work" }],
    displayName: "Test User",
    locale: "en-US",
    externalId: "00ujl29u0le5T6Aj10h7",
    groups: [],
    password: "1mz050nq",
    active: true,
  };

  it("looks the user up first, then creates it (201, Location, no password echoed)", async () => {
    const none = await call("GET", `/Users?filter=${encodeURIComponent('userName eq "test.user@okta.local"')}&startIndex=1&count=100`);
    expect(none.status).toBe(200);
    expect(none.type).toContain("application/scim+json");
    expect(none.body).toMatchObject({ totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
    const created = await call("POST", "/Users", oktaUser);
    expect(created.status).toBe(201);
    id = created.body.id;
    expect(created.headers.get("location")).toBe(`${BASE}/Users/${id}`);
    expect(created.body).toMatchObject({ userName: "test.user@okta.local", active: true, externalId: "00ujl29u0le5T6Aj10h7", name: { givenName: "Test" } });
    expect(JSON.stringify(created.body)).not.toContain("1mz050nq");
    const row = await ctx.client.principal.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ kind: "user", displayName: "Test User", email: "test.user@okta.local", status: "active" });
    const found = await call("GET", `/Users?filter=${encodeURIComponent('userName eq "TEST.USER@okta.local"')}&startIndex=1&count=100`);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(id);
  });

  it("refuses a duplicate userName or externalId with 409 uniqueness", async () => {
    const dup = await call("POST", "/Users", { ...oktaUser, externalId: "other" });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ schemas: [ERROR], status: "409", scimType: "uniqueness" });
    const dupExt = await call("POST", "/Users", { ...oktaUser, userName: "someone.else@okta.local" });
    expect(dupExt.status).toBe(409);
  });

  it("PUT with active false deactivates, keeps the user readable, and opens orphan findings at once", async () => {
    const grant = await ctx.client.grant.create({ data: { principalId: id, scopeId, environmentId } });
    const started = Date.now();
    const res = await call("PUT", `/Users/${id}`, { ...oktaUser, id, active: false });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
    const findings = await ctx.client.finding.findMany({ where: { grantId: grant.id, rule: "orphaned", status: "open" } });
    expect(findings).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5000);
    const row = await ctx.client.principal.findUniqueOrThrow({ where: { id } });
    expect(row.status).toBe("deprovisioned");
    expect(row.deprovisionedAt).not.toBeNull();
    const audit = await ctx.client.auditEvent.findFirst({ where: { action: "scim.user.deactivate", target: `principal:${id}` } });
    expect(audit).not.toBeNull();
    const read = await call("GET", `/Users/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.active).toBe(false);
  });

  it("PATCH replace with a value object reactivates and deactivates", async () => {
    const on = await call("PATCH", `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: true } }] });
    expect(on.status).toBe(200);
    expect(on.body.active).toBe(true);
    const off = await call("PATCH", `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] });
    expect(off.body.active).toBe(false);
    expect((await ctx.client.principal.findUniqueOrThrow({ where: { id } })).status).toBe("deprovisioned");
  });

  it("pages with startIndex and count over the whole list", async () => {
    for (let i = 0; i < 7; i++) {
      const r = await call("POST", "/Users", { schemas: [USER], userName: `pager${i}@okta.local`, name: { givenName: "P", familyName: String(i) }, active: true });
      expect(r.status).toBe(201);
    }
    const all = await call("GET", `/Users?filter=${encodeURIComponent('userName sw "pager"')}&startIndex=1&count=100`);
    expect(all.body.totalResults).toBe(7);
    const page2 = await call("GET", `/Users?filter=${encodeURIComponent('userName sw "pager"')}&startIndex=4&count=3`);
    expect(page2.body).toMatchObject({ totalResults: 7, startIndex: 4, itemsPerPage: 3 });
    expect(page2.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(["pager3@okta.local", "pager4@okta.local", "pager5@okta.local"]);
    const last = await call("GET", `/Users?filter=${encodeURIComponent('userName sw "pager"')}&startIndex=7&count=3`);
    expect(last.body.itemsPerPage).toBe(1);
    // Filter values are literals, not LIKE patterns.
    const wild = await call("GET", `/Users?filter=${encodeURIComponent('userName eq "pager_@okta.local" or userName co "%"')}`);
    expect(wild.body.totalResults).toBe(0);
  });

  it("groups: create, add and remove members as Okta does", async () => {
    const users = (await call("GET", `/Users?filter=${encodeURIComponent('userName sw "pager"')}&count=2`)).body.Resources as { id: string }[];
    const g = await call("POST", "/Groups", { schemas: [GROUP], displayName: "Payments", members: [] });
    expect(g.status).toBe(201);
    const add = await call("PATCH", `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: users.map((u) => ({ value: u.id, display: "x" })) }] });
    expect(add.status).toBe(200);
    expect(add.body.members).toHaveLength(2);
    expect((await ctx.client.principal.findUniqueOrThrow({ where: { id: users[0].id } })).teamId).toBe(g.body.id);
    const remove = await call("PATCH", `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${users[0].id}"]` }] });
    expect(remove.body.members.map((m: { value: string }) => m.value)).toEqual([users[1].id]);
    expect((await ctx.client.principal.findUniqueOrThrow({ where: { id: users[0].id } })).teamId).toBeNull();
    const dup = await call("POST", "/Groups", { schemas: [GROUP], displayName: "payments" });
    expect(dup.status).toBe(409);
    const rename = await call("PATCH", `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { id: g.body.id, displayName: "Payments Team" } }] });
    expect(rename.body.displayName).toBe("Payments Team");
  });
});

describe("Microsoft Entra ID", () => {
  let id: string;
  let managerId: string;

  it("creates users with the enterprise extension and filters by externalId", async () => {
    const boss = await call("POST", "/Users", { schemas: [USER, ENTERPRISE], externalId: "boss-ext", userName: "Boss_User@contoso.com", active: true, displayName: "Boss" });
    managerId = boss.body.id;
    const res = await call("POST", "/Users", {
      schemas: [USER, ENTERPRISE],
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
      userName: "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
      active: true,
      emails: [{ primary: true, type: "work", value: "Test_User_fd0ea19b@testuser.com" }],
      meta: { resourceType: "User" },
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      roles: [],
      [ENTERPRISE]: { department: "Finance", manager: { value: managerId } },
    });
    expect(res.status).toBe(201);
    id = res.body.id;
    expect(res.body[ENTERPRISE].manager.value).toBe(managerId);
    const row = await ctx.client.principal.findUniqueOrThrow({ where: { id }, include: { team: true } });
    expect(row.managerId).toBe(managerId);
    expect(row.team?.name).toBe("Finance");
    expect(row.displayName).toBe("givenName familyName");
    const byExt = await call("GET", `/Users?filter=${encodeURIComponent('externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')}`);
    expect(byExt.body.totalResults).toBe(1);
    expect(byExt.body.Resources[0].id).toBe(id);
    const combined = await call("GET", `/Users?filter=${encodeURIComponent('(displayName co "familyName" and active eq true) or userName eq "nobody"')}`);
    expect(combined.body.Resources.map((u: { id: string }) => u.id)).toEqual([id]);
  });

  it("applies Entra's multi-operation PATCH (Add on a filtered email path, Replace name, manager by URN path)", async () => {
    const res = await call("PATCH", `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: "Add", path: 'emails[type eq "work"].value', value: "updatedEmail@microsoft.com" },
        { op: "Replace", path: "name.familyName", value: "updatedFamilyName" },
        { op: "Replace", path: `${ENTERPRISE}:department`, value: "Treasury" },
        { op: "Remove", path: `${ENTERPRISE}:manager` },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.emails[0].value).toBe("updatedEmail@microsoft.com");
    expect(res.body.name.familyName).toBe("updatedFamilyName");
    const row = await ctx.client.principal.findUniqueOrThrow({ where: { id }, include: { team: true } });
    expect(row.email).toBe("updatedEmail@microsoft.com");
    expect(row.managerId).toBeNull();
    expect(row.team?.name).toBe("Treasury");
  });

  it('deactivates with {"op":"Replace","path":"active","value":"False"} and opens orphan findings within 5 s', async () => {
    const grant = await ctx.client.grant.create({ data: { principalId: id, scopeId, environmentId } });
    const started = Date.now();
    const res = await call("PATCH", `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "active", value: "False" }] });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
    expect(await ctx.client.finding.count({ where: { grantId: grant.id, rule: "orphaned", status: "open" } })).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("manages group members with Add/Remove value arrays and excludedAttributes=members", async () => {
    const g = await call("POST", "/Groups", { schemas: [GROUP], externalId: "grp-1", displayName: "Entra Group" });
    const add = await call("PATCH", `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "members", value: [{ $ref: null, value: managerId }] }] });
    expect(add.body.members.map((m: { value: string }) => m.value)).toEqual([managerId]);
    const lookup = await call("GET", `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "Entra Group"')}`);
    expect(lookup.body.totalResults).toBe(1);
    expect(lookup.body.Resources[0].members).toBeUndefined();
    const member = await call("GET", `/Groups?filter=${encodeURIComponent(`id eq "${g.body.id}" and members[value eq "${managerId}"]`)}&excludedAttributes=members`);
    expect(member.body.totalResults).toBe(1);
    const remove = await call("PATCH", `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "Remove", path: "members", value: [{ $ref: null, value: managerId }] }] });
    expect(remove.body.members).toEqual([]);
    const del = await call("DELETE", `/Groups/${g.body.id}`);
    expect(del.status).toBe(204);
    expect((await call("GET", `/Groups/${g.body.id}`)).status).toBe(404);
  });

  it("DELETE deprovisions, keeps the row for the audit trail, and answers 404 afterwards", async () => {
    const res = await call("DELETE", `/Users/${managerId}`);
    expect(res.status).toBe(204);
    expect((await call("GET", `/Users/${managerId}`)).status).toBe(404);
    const row = await ctx.client.principal.findUniqueOrThrow({ where: { id: managerId } });
    expect(row.status).toBe("deprovisioned");
    expect(row.scimDeletedAt).not.toBeNull();
    // The userName is free again for a new account.
    const again = await call("POST", "/Users", { schemas: [USER], userName: "Boss_User@contoso.com", active: true });
    expect(again.status).toBe(201);
  });
});

describe("discovery endpoints", () => {
  it("serves ServiceProviderConfig, ResourceTypes and Schemas", async () => {
    const spc = await call("GET", "/ServiceProviderConfig");
    expect(spc.body.patch.supported).toBe(true);
    expect(spc.body.filter.supported).toBe(true);
    const types = await call("GET", "/ResourceTypes");
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(["User", "Group"]);
    const schemas = await call("GET", "/Schemas");
    expect(schemas.body.totalResults).toBe(3);
    expect((await call("GET", `/Schemas/${USER}`)).body.id).toBe(USER);
    expect((await call("GET", "/Schemas/urn:nope")).status).toBe(404);
  });
});

describe("unauthenticated and malformed requests", () => {
  it("answer SCIM errors with the right status and change nothing", async () => {
    const before = await snapshot();
    const valid = { schemas: [USER], userName: "intruder@evil.example", active: true };
    const cases: [string, Promise<Awaited<ReturnType<typeof call>>>, number, string?][] = [
      ["no token", call("POST", "/Users", valid, null), 401],
      ["bad token", call("POST", "/Users", valid, "Bearer tgs_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 401],
      ["basic auth", call("GET", "/Users", undefined, "Basic dXNlcjpwYXNz"), 401],
      ["token without scim scope", call("POST", "/Users", valid, `Bearer ${usageToken}`), 403],
      ["wrong scope on discovery", call("GET", "/ServiceProviderConfig", undefined, `Bearer ${usageToken}`), 403],
      ["malformed JSON", call("POST", "/Users", "{not json"), 400, "invalidSyntax"],
      ["missing userName", call("POST", "/Users", { schemas: [USER], active: true }), 400, "invalidValue"],
      ["bad active", call("POST", "/Users", { ...valid, active: "maybe" }), 400, "invalidValue"],
      ["bad filter", call("GET", `/Users?filter=${encodeURIComponent("userName eq")}`), 400, "invalidFilter"],
      ["unsupported filter attribute", call("GET", `/Users?filter=${encodeURIComponent('password eq "x"')}`), 400, "invalidFilter"],
      ["bad count", call("GET", "/Users?count=abc"), 400, "invalidValue"],
      ["patch without schemas", call("PATCH", "/Users/00000000-0000-4000-8000-000000000000", { Operations: [{ op: "replace", value: { active: false } }] }), 400, "invalidSyntax"],
      ["unknown user", call("GET", "/Users/00000000-0000-4000-8000-000000000000"), 404],
      ["not a uuid", call("DELETE", "/Users/not-a-uuid"), 404],
      ["unknown endpoint", call("GET", "/Widgets"), 404],
      ["method not allowed", call("DELETE", "/Users"), 405],
    ];
    for (const [name, pending, status, scimType] of cases) {
      const res = await pending;
      expect(res.status, name).toBe(status);
      expect(res.type, name).toContain("application/scim+json");
      expect(res.body.schemas, name).toEqual([ERROR]);
      expect(res.body.status, name).toBe(String(status));
      if (scimType) expect(res.body.scimType, name).toBe(scimType);
    }
    // A malformed PATCH on a real user changes nothing either.
    const user = (await call("GET", `/Users?filter=${encodeURIComponent('userName eq "pager0@okta.local"')}`)).body.Resources[0];
    const bad = await call("PATCH", `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "active", value: "False" }, { op: "explode", path: "active" }] });
    expect(bad.status).toBe(400);
    const badPath = await call("PATCH", `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }, { op: "replace", path: "name..x", value: 1 }] });
    expect(badPath.status).toBe(400);
    expect(badPath.body.scimType).toBe("invalidPath");
    expect(await snapshot()).toBe(before);
  });
});
