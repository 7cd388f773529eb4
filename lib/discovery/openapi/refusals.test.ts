import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { useTestDatabase } from "@/test/support/use-test-database";
import { systemActor } from "@/lib/auth/actor";
import { AppError } from "@/lib/errors";
import { applyImport, parseOpenApi, planImport } from "@/lib/discovery";
import { importFromRequest } from "./http";
import { formatPlan } from "./format";
import { openApiDoc } from "@/test/support/openapi";

// Issue 17, point 6: documents and inputs the importer used to accept, each now a
// 400 naming where the problem is; and what it labels and names differently.
const BAD = path.resolve("test/fixtures/openapi/bad");
const ctx = useTestDatabase(2);
const admin = systemActor("test");

beforeAll(async () => {
  await ctx.client.environment.create({ data: { name: "staging", tier: "staging" } });
});

const refusal = (file: string) => parseOpenApi(readFileSync(path.join(BAD, file)), { filename: file }).then(() => null, (e: unknown) => e as AppError);

describe("$ref cycles outside schemas", () => {
  it.each([
    ["27-path-item-self-ref.yaml", "/paths/~1loop/$ref"],
    ["28-parameter-ref-cycle.yaml", "/components/parameters/"],
    ["29-response-self-ref.json", "/components/responses/loop/$ref"],
    ["30-security-scheme-self-ref.yaml", "/components/securitySchemes/key/$ref"],
    ["33-path-item-ref-into-itself.yaml", "/components/responses/paged/headers/Link/$ref"],
  ])("%s is a 400 naming the pointer %s", async (file, pointer) => {
    const err = await refusal(file);
    expect(err).toBeInstanceOf(AppError);
    expect(err!.status).toBe(400);
    expect(err!.message).toContain("$ref cycle");
    expect(err!.message).toContain(pointer);
  });

  it("still accepts recursive schemas (OpenAPI 3 components and Swagger 2.0 definitions)", async () => {
    const tree = { type: "object", properties: { children: { type: "array", items: { $ref: "#/components/schemas/Node" } }, parent: { $ref: "#/components/schemas/Node" } } };
    const v3 = {
      openapi: "3.0.3",
      info: { title: "t", version: "1" },
      components: { schemas: { Node: tree } },
      paths: { "/nodes": { get: { responses: { 200: { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Node" } } } } } } } },
    };
    await expect(parseOpenApi(JSON.stringify(v3))).resolves.toMatchObject({ label: "OpenAPI 3.0.3" });
    const v2 = {
      swagger: "2.0",
      info: { title: "t", version: "1" },
      definitions: { Node: { type: "object", properties: { next: { $ref: "#/definitions/Node" } } } },
      paths: { "/nodes": { get: { responses: { 200: { description: "ok", schema: { $ref: "#/definitions/Node" } } } } } },
    };
    await expect(parseOpenApi(JSON.stringify(v2))).resolves.toMatchObject({ label: "Swagger 2.0" });
  });
});

describe("security requirements naming undeclared schemes", () => {
  it("OpenAPI 3: names the requirement's pointer and the scheme", async () => {
    const err = await refusal("31-undefined-security-scheme.yaml");
    expect(err?.status).toBe(400);
    expect(err?.message).toContain("/paths/~1things/get/security/1/partnerKey");
    expect(err?.message).toContain("components.securitySchemes");
  });
  it("Swagger 2.0: the document-level requirement against securityDefinitions", async () => {
    const err = await refusal("32-swagger2-undefined-security-definition.json");
    expect(err?.status).toBe(400);
    expect(err?.message).toContain("/security/0/oauth");
    expect(err?.message).toContain("securityDefinitions");
  });
});

const doc = {
  openapi: "3.0.3",
  info: { title: "Upstreams", version: "1" },
  components: { securitySchemes: { key: { type: "apiKey", in: "header", name: "X-Key" } } },
  security: [{ key: [] }],
  paths: { "/things": { get: { responses: { 200: { description: "ok" } } } } },
};

describe("baseUrl", () => {
  it.each(["javascript:alert(1)", "file:///etc/passwd", "ftp://files.example/x", "data:text/html,hi", "https://api.example/v1?x=1", "/relative"])(
    "%s is refused with 400 on baseUrl, and nothing is written",
    async (baseUrl) => {
      const err = await applyImport(admin, { apiName: "upstreams", environment: "staging", document: JSON.stringify(doc), baseUrl }, { client: ctx.client }).catch((e) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err.status).toBe(400);
      expect(err.field).toBe("baseUrl");
      expect(await ctx.client.api.count()).toBe(0);
    },
  );

  it("the HTTP entry point refuses it too", async () => {
    const req = new Request(`https://tollgate.example/api/v1/imports/openapi?api=x&env=staging&dryRun=1&baseUrl=${encodeURIComponent("javascript:alert(1)")}`, {
      method: "POST",
      body: JSON.stringify(doc),
      headers: { "content-type": "application/json" },
    });
    await expect(importFromRequest(admin, req, { client: ctx.client })).rejects.toMatchObject({ status: 400, field: "baseUrl" });
  });

  it("an http(s) one is accepted", async () => {
    const plan = await planImport(admin, { apiName: "upstreams", environment: "staging", document: JSON.stringify(doc), baseUrl: "http://orders.internal:8080/v1" }, { client: ctx.client });
    expect(plan.api.baseUrl).toBe("http://orders.internal:8080/v1");
  });
});

describe("messages and names", () => {
  it("the size-limit error says how to raise the limit", async () => {
    const err = await parseOpenApi("x".repeat(2048), { maxBytes: 1024 }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.message).toContain("TOLLGATE_OPENAPI_MAX_BYTES");
  });

  it("labels a Swagger 2.0 document Swagger 2.0, in the plan and its text form", async () => {
    const swagger = { swagger: "2.0", info: { title: "Old", version: "1" }, host: "old.example", paths: { "/a": { get: { responses: { 200: { description: "ok" } } } } } };
    const plan = await planImport(admin, { apiName: "old", environment: "staging", document: JSON.stringify(swagger) }, { client: ctx.client });
    expect(plan.document.label).toBe("Swagger 2.0");
    expect(formatPlan(plan)).toContain("Swagger 2.0");
    expect(formatPlan(plan)).not.toContain("OpenAPI 2.0");
    const v31 = await planImport(admin, { apiName: "new", environment: "staging", document: JSON.stringify({ ...doc, openapi: "3.1.0" }), baseUrl: "https://n.example" }, { client: ctx.client });
    expect(v31.document.label).toBe("OpenAPI 3.1.0");
  });

  it("synthetic scopes for schemes without scopes cannot be mistaken for real scope names (Linode's oauth)", async () => {
    // Linode's description: an oauth scheme whose operations list real scopes, and some that list none.
    const linode = openApiDoc({
      openapi: "3.0.1",
      title: "Linode-like",
      version: "4",
      server: "https://api.linode.example/v4",
      securitySchemes: {
        oauth: { type: "oauth2", flows: { authorizationCode: { authorizationUrl: "https://login.example/oauth/authorize", tokenUrl: "https://login.example/oauth/token", scopes: { "account:read_write": "rw", "account:read_only": "ro" } } } },
        personalAccessToken: { type: "http", scheme: "bearer" },
      },
      paths: {
        "/account": { get: { security: [{ personalAccessToken: [] }, { oauth: ["account:read_only"] }], responses: { 200: { description: "ok" } } } },
        "/profile": { put: { security: [{ oauth: [] }], responses: { 200: { description: "ok" } } }, get: { security: [{ oauth: [] }], responses: { 200: { description: "ok" } } } },
      },
    });
    const plan = await planImport(admin, { apiName: "linode", environment: "staging", document: toYaml(linode) }, { client: ctx.client });
    const names = plan.diff.scopes.added.map((s) => s.name).sort();
    expect(names).toEqual(["account:read_only", "oauth credential (read)", "oauth credential (write)", "personalAccessToken credential (read)"]);
    expect(names).not.toContain("oauth:read");
    // An OAuth scope token cannot contain a space (RFC 6749 §3.3): no real scope can have these names.
    for (const n of names.filter((x) => x.includes("credential"))) expect(n).toMatch(/ /);
  });
});
