import { describe, expect, it } from "vitest";
import { BASE, USER, ENTERPRISE, PATCH_OP, useScim, type ScimRoute } from "@/test/support/scim";

// Issue 17, point 7: what the SCIM server refuses or ignores (RFC 7644), driven
// through the real route handlers with Request objects as a client sends them.
const ctx = useScim("idp");

async function send(method: keyof ScimRoute, path: string, body: string | undefined, contentType: string | null) {
  const headers: Record<string, string> = { authorization: `Bearer ${ctx.token}` };
  if (contentType !== null) headers["content-type"] = contentType;
  const res = await ctx.route[method](new Request(`${BASE}${path}`, { method, headers, body }));
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
const principals = () => ctx.client.principal.count();

describe("content types", () => {
  const user = JSON.stringify({ schemas: [USER], userName: "ct@example.com" });

  it.each([
    ["text/plain", user],
    ["text/plain;charset=UTF-8", user],
    ["application/xml", `<User><userName>ct@example.com</userName></User>`],
    ["application/x-www-form-urlencoded", "userName=ct%40example.com"],
    [null, user],
  ])("refuses a POST sent as %s with 415 and creates nothing", async (type, body) => {
    const before = await principals();
    const r = await send("POST", "/Users", body, type);
    expect(r.status).toBe(415);
    expect(r.body.status).toBe("415");
    expect(r.body.detail).toContain("application/scim+json");
    expect(await principals()).toBe(before);
  });

  it("refuses PUT and PATCH bodies with a non-JSON type too", async () => {
    const created = await send("POST", "/Users", JSON.stringify({ schemas: [USER], userName: "ct2@example.com" }), "application/scim+json");
    expect(created.status).toBe(201);
    const put = await send("PUT", `/Users/${created.body.id}`, JSON.stringify({ schemas: [USER], userName: "renamed@example.com" }), "text/plain");
    expect(put.status).toBe(415);
    const patch = await send("PATCH", `/Users/${created.body.id}`, JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] }), "application/xml");
    expect(patch.status).toBe(415);
    const row = await ctx.client.principal.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row).toMatchObject({ userName: "ct2@example.com", status: "active" });
  });

  it("accepts application/scim+json and application/json, with parameters", async () => {
    expect((await send("POST", "/Users", JSON.stringify({ schemas: [USER], userName: "a@example.com" }), "application/scim+json; charset=utf-8")).status).toBe(201);
    expect((await send("POST", "/Users", JSON.stringify({ schemas: [USER], userName: "b@example.com" }), "Application/JSON")).status).toBe(201);
  });
});

describe("unknown attributes", () => {
  it("are ignored, never stored nor echoed; declared ones and the enterprise extension are kept", async () => {
    const body = {
      schemas: [USER, ENTERPRISE, "urn:example:params:scim:schemas:extension:custom:2.0:User"],
      userName: "attrs@example.com",
      name: { givenName: "Ada", familyName: "Lovelace", secretNickname: "x-in-name" },
      emails: [{ value: "attrs@example.com", type: "work", primary: true, verifiedBy: "x-in-email" }],
      title: "Engineer",
      phoneNumbers: [{ value: "+44 20 0000 0000", type: "work" }],
      favouriteColour: "x-top-level",
      "urn:example:params:scim:schemas:extension:custom:2.0:User": { badge: "x-undeclared-extension" },
      [ENTERPRISE]: { employeeNumber: "42", department: "Research", shoeSize: "x-in-enterprise" },
    };
    const r = await send("POST", "/Users", JSON.stringify(body), "application/scim+json");
    expect(r.status).toBe(201);
    expect(JSON.stringify(r.body)).not.toMatch(/x-(top-level|in-name|in-email|undeclared-extension|in-enterprise)/);
    expect(r.body).toMatchObject({ title: "Engineer", name: { givenName: "Ada", familyName: "Lovelace" }, phoneNumbers: [{ value: "+44 20 0000 0000" }] });
    expect(r.body[ENTERPRISE]).toMatchObject({ employeeNumber: "42", department: "Research" });
    const row = await ctx.client.principal.findUniqueOrThrow({ where: { id: r.body.id } });
    expect(JSON.stringify(row.scimAttributes)).not.toMatch(/x-(top-level|in-name|in-email|undeclared-extension|in-enterprise)/);
    expect(JSON.stringify(row.scimAttributes)).toContain("Engineer");

    // PATCH to an unknown attribute is ignored the same way.
    const patched = await send("PATCH", `/Users/${r.body.id}`, JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: "add", path: "x-patched", value: "x-top-level" }, { op: "replace", path: "title", value: "Lead" }] }), "application/scim+json");
    expect(patched.status).toBe(200);
    expect(patched.body.title).toBe("Lead");
    expect(JSON.stringify((await ctx.client.principal.findUniqueOrThrow({ where: { id: r.body.id } })).scimAttributes)).not.toContain("x-top-level");
  });

  it("the Schemas endpoint declares what is kept", async () => {
    const r = await send("GET", `/Schemas/${USER}`, undefined, null);
    const names = (r.body.attributes as { name: string }[]).map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(["userName", "name", "title", "phoneNumbers", "emails"]));
    expect(names).not.toContain("favouriteColour");
  });
});

describe("paging parameters", () => {
  it.each(["99999999999999999999", "2147483648", "1e3", "0x10", "abc", "1.5"])("startIndex=%s is a 400 invalidValue", async (v) => {
    const r = await send("GET", `/Users?startIndex=${v}`, undefined, null);
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe("invalidValue");
    expect(r.body.detail).toContain("startIndex");
  });

  it("a huge count is capped, a negative startIndex means 1", async () => {
    const r = await send("GET", "/Users?startIndex=-5&count=99999999999999999999", undefined, null);
    expect(r.status).toBe(200);
    expect(r.body.startIndex).toBe(1);
    const g = await send("GET", "/Groups?startIndex=99999999999999999999", undefined, null);
    expect(g.status).toBe(400);
  });
});
