import { describe, expect, it } from "vitest";
import { BASE, USER, GROUP, ENTERPRISE, PATCH_OP, ERROR, useScim, type ScimRoute } from "@/test/support/scim";

// SCIM from outside: the odd requests real provisioning clients and the
// Microsoft SCIM validator send, and hostile ones, through the real route
// handlers over a database of its own. Every refusal must be a SCIM error
// (schemas, status as a string, scimType where defined) and change nothing.
const ctx = useScim("entra");

async function call(method: keyof ScimRoute, path: string, body?: unknown) {
  const headers: Record<string, string> = { accept: "application/scim+json", authorization: `Bearer ${ctx.token}` };
  if (body !== undefined) headers["content-type"] = "application/scim+json";
  const res = await ctx.route[method](new Request(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) }));
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), body: text ? JSON.parse(text) : null };
}
const q = (filter: string) => `filter=${encodeURIComponent(filter)}`;

async function snapshot() {
  const principals = await ctx.client.principal.findMany({ orderBy: { id: "asc" } });
  const teams = await ctx.client.team.findMany({ orderBy: { id: "asc" } });
  return JSON.stringify({ principals, teams, audit: await ctx.client.auditEvent.count() });
}

function expectScimError(res: Awaited<ReturnType<typeof call>>, status: number, name: string, scimType?: string) {
  expect(res.status, name).toBe(status);
  expect(res.type, name).toContain("application/scim+json");
  expect(res.body.schemas, name).toEqual([ERROR]);
  expect(res.body.status, name).toBe(String(status));
  if (scimType) expect(res.body.scimType, name).toBe(scimType);
}

describe("SCIM from outside", () => {
  let userId: string;
  let managerId: string;
  let groupId: string;

  it("sets up a user, a manager and a group the way Entra does", async () => {
    const mgr = await call("POST", "/Users", { schemas: [USER, ENTERPRISE], userName: "boss@contoso.test", active: true, displayName: "Boss" });
    expect(mgr.status).toBe(201);
    managerId = mgr.body.id;
    const u = await call("POST", "/Users", {
      schemas: [USER, ENTERPRISE],
      externalId: "e-1",
      userName: "ada@contoso.test",
      active: "True",
      displayName: "Ada",
      emails: [{ primary: true, type: "work", value: "ada@contoso.test" }],
      name: { formatted: "Ada L", familyName: "L", givenName: "Ada" },
      [ENTERPRISE]: { department: "Research", manager: { value: managerId } },
    });
    expect(u.status).toBe(201);
    userId = u.body.id;
    expect(u.body[ENTERPRISE].manager.value).toBe(managerId);
    const g = await call("POST", "/Groups", { schemas: [GROUP], displayName: "Eng", members: [] });
    expect(g.status).toBe(201);
    groupId = g.body.id;
  });

  it("answers the validator's paging and filter edge cases", async () => {
    const zero = await call("GET", "/Users?count=0");
    expect(zero.status).toBe(200);
    expect(zero.body).toMatchObject({ totalResults: 2, itemsPerPage: 0, Resources: [] });
    const negative = await call("GET", "/Users?startIndex=-4&count=-1");
    expect(negative.status).toBe(200);
    expect(negative.body).toMatchObject({ startIndex: 1, itemsPerPage: 0 });
    const byId = await call("GET", `/Users?${q(`id eq "${userId}"`)}`);
    expect(byId.body.totalResults).toBe(1);
    expect((await call("GET", `/Users?${q('id eq "not-a-uuid"')}`)).body.totalResults).toBe(0);
    const work = await call("GET", `/Users?${q('emails[type eq "work" and value co "ada@"]')}&excludedAttributes=groups`);
    expect(work.body.totalResults).toBe(1);
    const nested = await call("GET", `/Users?${q(`(userName sw "ada" or userName eq "nobody") and not (active eq false)`)}`);
    expect(nested.body.totalResults).toBe(1);
    expect((await call("GET", `/Groups?${q('displayName eq "eng"')}`)).body.totalResults).toBe(1);
    // LIKE metacharacters in a value are literals.
    expect((await call("GET", `/Users?${q('userName co "%"')}`)).body.totalResults).toBe(0);
    expect((await call("GET", `/Users?${q('userName sw "_"')}`)).body.totalResults).toBe(0);
  });

  it("refuses hostile or malformed requests with SCIM errors, never a 500, and changes nothing", async () => {
    const before = await snapshot();
    const deepNot = "not (".repeat(300) + 'userName eq "x"' + ")".repeat(300);
    const deepParens = "(".repeat(900) + 'userName eq "x"' + ")".repeat(900);
    const cases: [string, Promise<Awaited<ReturnType<typeof call>>>, number, string?][] = [
      ["malformed escape in the path", call("GET", "/Users/%E0%A4%A"), 404],
      ["malformed escape in a group path", call("PATCH", "/Groups/%ZZ", { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [] }] }), 404],
      ["NUL in userName", call("POST", "/Users", { schemas: [USER], userName: "nul\u0000@contoso.test" }), 400, "invalidValue"],
      ["NUL in displayName", call("POST", "/Users", { schemas: [USER], userName: "nul2@contoso.test", displayName: "a\u0000b" }), 400, "invalidValue"],
      ["NUL in an extra attribute", call("POST", "/Users", { schemas: [USER], userName: "nul3@contoso.test", title: "x\u0000" }), 400, "invalidValue"],
      ["NUL in an extra attribute's key", call("POST", "/Users", { schemas: [USER], userName: "nul4@contoso.test", "ti\u0000tle": "x" }), 400, "invalidValue"],
      ["NUL in a group name", call("POST", "/Groups", { schemas: [GROUP], displayName: "g\u0000" }), 400, "invalidValue"],
      ["NUL via PATCH", call("PATCH", `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "displayName", value: "x\u0000" }] }), 400, "invalidValue"],
      ["NUL in a filter value", call("GET", `/Users?${q('userName eq "a\u0000"')}`), 400, "invalidFilter"],
      ["lone surrogate in userName", call("POST", "/Users", { schemas: [USER], userName: "\ud800@contoso.test" }), 400, "invalidValue"],
      ["deeply nested not()", call("GET", `/Users?${q(deepNot)}`), 400, "invalidFilter"],
      ["filter value of the wrong type", call("GET", `/Users?${q("userName eq 5")}`), 400, "invalidFilter"],
      ["user attribute on Groups", call("GET", `/Groups?${q('userName eq "x"')}`), 400, "invalidFilter"],
      ["count not a number", call("GET", "/Users?count=ten"), 400, "invalidValue"],
      ["startIndex not a number", call("GET", "/Users?startIndex=1.5"), 400, "invalidValue"],
      ["body is an array", call("POST", "/Users", "[]"), 400, "invalidValue"],
      ["body is null", call("POST", "/Users", "null"), 400, "invalidValue"],
      ["empty body", call("POST", "/Users", ""), 400, "invalidSyntax"],
      ["userName not a string", call("PATCH", `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "userName", value: 42 }] }), 400, "invalidValue"],
      ["remove without a path", call("PATCH", `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: "remove" }] }), 400, "noTarget"],
      ["bad filter inside a path", call("PATCH", `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: 'emails[type eq ].value', value: "x" }] }), 400, "invalidPath"],
      ["prototype path", call("PATCH", `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "__proto__", value: { active: false } }] }), 400, "invalidPath"],
      ["prototype key in a value object", call("PATCH", `/Users/${userId}`, `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"add","value":{"__proto__":{"active":false}}}]}`), 400, "invalidPath"],
      ["own manager", call("PATCH", `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: "Add", path: `${ENTERPRISE}:manager`, value: { value: userId } }] }), 400, "invalidValue"],
      ["unknown group member", call("PATCH", `/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "members", value: [{ value: "00000000-0000-4000-8000-000000000000" }] }] }), 400, "invalidValue"],
      ["duplicate userName in another case", call("POST", "/Users", { schemas: [USER], userName: "ADA@contoso.test" }), 409, "uniqueness"],
      ["unsupported method", call("PUT", "/Users"), 405],
      ["extra path segment", call("GET", `/Users/${userId}/x`), 404],
    ];
    const got: string[] = [];
    for (const [name, pending, status, scimType] of cases) {
      const res = await pending;
      got.push(`${name}: ${res.status} ${res.body?.scimType ?? ""}`.trim());
      if (res.status === status) expectScimError(res, status, name, scimType);
    }
    expect(got).toEqual(cases.map(([name, , status, scimType]) => `${name}: ${status} ${scimType ?? ""}`.trim()));
    // Redundant parentheses are not nesting: the parser folds them.
    const parens = await call("GET", `/Users?${q(deepParens)}`);
    expect(parens.status).toBe(200);
    expect(parens.body.totalResults).toBe(0);
    expect(await snapshot()).toBe(before);
  });

  it("Entra's manager forms: a plain string, a value object, and removal", async () => {
    const asString = await call("PATCH", `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: "Add", path: `${ENTERPRISE}:manager`, value: managerId }] });
    expect(asString.status).toBe(200);
    expect(asString.body[ENTERPRISE].manager.value).toBe(managerId);
    const removed = await call("PATCH", `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: "Remove", path: `${ENTERPRISE}:manager` }] });
    expect(removed.status).toBe(200);
    expect((await ctx.client.principal.findUniqueOrThrow({ where: { id: userId } })).managerId).toBeNull();
  });
});
