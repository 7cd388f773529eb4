import { beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { useTestDatabase } from "@/test/support/use-test-database";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { applyImport, setScopeLevel } from "@/lib/discovery";
import { getApi } from "@/lib/inventory";
import { classifyScope } from "./scope-classify";
import { openApiDoc } from "@/test/support/openapi";

// Issue 17, point 4: a scope's level from its name and from the methods of the
// operations requiring it, with the evidence, and the admin's override.

describe("classifyScope", () => {
  const use = (method: string, together: string[] = [], pathTemplate = "/x") => ({ method, pathTemplate, together });
  it.each([
    ["admin", [use("GET")], "admin"],
    ["account:admin", [use("GET")], "admin"],
    ["https://www.googleapis.com/auth/devstorage.full_control", [use("GET")], "admin"],
    ["orders:manage", [use("GET")], "admin"],
    ["account:read_write", [use("GET")], "write"], // Linode: the name says write
    ["https://www.googleapis.com/auth/devstorage.read_write", [use("GET")], "write"],
    ["account:read_only", [use("GET")], "read"],
    ["https://www.googleapis.com/auth/compute.readonly", [use("GET"), use("HEAD")], "read"],
    ["public", [use("GET"), use("HEAD")], "read"], // Vimeo: only reads
    ["stats", [use("GET")], "read"],
    ["public", [use("DELETE")], "write"], // required alone by a DELETE
    ["cloud-platform", [use("GET"), use("POST")], "write"],
    ["cloud-platform", [use("PATCH")], "write"],
    ["cloud-platform", [use("PUT")], "write"],
  ] as const)("%s required by %j is %s", (name, uses, level) => {
    expect(classifyScope(name, [...uses]).level).toBe(level);
  });

  it("a scope required by writes only together with a writing scope stays read (petstore's read:pets, Vimeo's public)", () => {
    const c = classifyScope("read:pets", [use("GET", ["write:pets"], "/pet/findByStatus"), use("POST", ["write:pets"], "/pet")]);
    expect(c.level).toBe("read");
    expect(c.evidence.join(" ")).toContain("only together with a writing scope (e.g. write:pets on POST /pet)");
    const vimeo = classifyScope("public", [use("GET", [], "/me"), use("DELETE", ["private", "delete", "edit", "interact"], "/tokens")]);
    expect(vimeo.level).toBe("read");
  });

  it("shows its evidence: the operations and the name", () => {
    const c = classifyScope("account:read_only", [use("GET", [], "/account"), use("PUT", [], "/account")]);
    expect(c.level).toBe("write");
    expect(c.evidence).toEqual(["required by 1 write operation: PUT /account", "required by 1 read operation: GET /account", 'the name "account:read_only" says read, but write operations require it']);
  });
});

describe("through an import, with the admin's override", () => {
  const ctx = useTestDatabase(2);
  const admin = systemActor("test");
  const person: Actor = { kind: "user", userId: "00000000-0000-4000-8000-000000000002", email: "admin@example.com", name: "Admin", roles: ["admin"], principalId: null };

  beforeAll(async () => {
    await ctx.client.environment.create({ data: { name: "production", tier: "production" } });
  });

  // Shaped after Linode (oauth with *:read_only / *:read_write), Google (devstorage.*) and Vimeo (plain words).
  const doc = openApiDoc({
    openapi: "3.0.3",
    title: "Levels",
    version: "1",
    server: "https://levels.example",
    securitySchemes: {
      oauth: {
        type: "oauth2",
        flows: { clientCredentials: { tokenUrl: "https://id.example/t", scopes: { "linodes:read_only": "", "linodes:read_write": "", "devstorage.full_control": "", public: "", delete: "", stats: "" } } },
      },
    },
    paths: {
      "/linodes": { get: { security: [{ oauth: ["linodes:read_only"] }], responses: { 200: { description: "ok" } } }, post: { security: [{ oauth: ["linodes:read_write"] }], responses: { 200: { description: "ok" } } } },
      "/buckets": { get: { security: [{ oauth: ["devstorage.full_control"] }], responses: { 200: { description: "ok" } } } },
      "/videos": { get: { security: [{ oauth: ["public"] }], responses: { 200: { description: "ok" } } } },
      "/videos/{id}": { delete: { security: [{ oauth: ["public", "delete"] }], responses: { 204: { description: "ok" } } } },
      "/stats": { get: { security: [{ oauth: ["stats"] }], responses: { 200: { description: "ok" } } } },
    },
  });

  it("stores each scope's level and evidence, shows them on the API page, and keeps an override across re-imports", async () => {
    const r = await applyImport(admin, { apiName: "levels", environment: "production", document: toYaml(doc) }, { client: ctx.client });
    expect(Object.fromEntries(r.diff.scopes.added.map((s) => [s.name, s.level]))).toEqual({
      "linodes:read_only": "read",
      "linodes:read_write": "write",
      "devstorage.full_control": "admin",
      public: "read",
      delete: "write",
      stats: "read",
    });
    const rw = await ctx.client.scope.findFirstOrThrow({ where: { name: "linodes:read_write" } });
    expect(rw.levelEvidence).toEqual(["required by 1 write operation: POST /linodes"]);

    const detail = await getApi(person, r.api.id!, ctx.client);
    const pub = detail!.scopes.find((s) => s.name === "public")!;
    expect(pub.levelEvidence.join(" ")).toContain("only together with a writing scope (e.g. delete on DELETE /videos/{id})");
    expect(pub.levelSetBy).toBeNull();

    await setScopeLevel(person, { scopeId: pub.id, level: "write" }, ctx.client);
    const after = (await getApi(person, r.api.id!, ctx.client))!.scopes.find((s) => s.name === "public")!;
    expect(after).toMatchObject({ level: "write", levelSetBy: "admin@example.com" });
    await applyImport(admin, { apiName: "levels", environment: "production", document: toYaml({ ...doc, info: { title: "Levels", version: "2" } }) }, { client: ctx.client });
    expect((await ctx.client.scope.findUniqueOrThrow({ where: { id: pub.id } })).level).toBe("write");
  });
});
