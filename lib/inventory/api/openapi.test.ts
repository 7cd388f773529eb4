import SwaggerParser from "@apidevtools/swagger-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import type { PrismaClient } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { inventoryOpenApi } from "./openapi";
import { OPERATIONS } from "./operations";

// Acceptance (issue 15): Tollgate's own OpenAPI description validates with the parser the
// importer uses and imports into Tollgate through the importer (lib/discovery/openapi).
let tdb: TestDatabase;
let client: PrismaClient;
let GET: (req: Request, ctx: unknown) => Promise<Response>;
let readToken: string;
let otherToken: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  process.env.DATABASE_URL = tdb.url;
  client = (await import("@/lib/db")).db();
  const { createServiceToken } = await import("@/lib/auth/service-tokens");
  readToken = (await createServiceToken(systemActor("test"), { name: "docs", scopes: ["inventory:read"] })).token;
  otherToken = (await createServiceToken(systemActor("test"), { name: "usage", scopes: ["usage:ingest"] })).token;
  await client.environment.create({ data: { name: "production", tier: "production" } });
  ({ GET } = await import("@/app/api/v1/openapi.json/route"));
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

const fetchDoc = (token?: string) => GET(new Request("http://localhost/api/v1/openapi.json", { headers: token ? { authorization: `Bearer ${token}` } : {} }), {});

describe("GET /api/v1/openapi.json", () => {
  it("is an OpenAPI 3.1 document that swagger-parser validates, with every route of the table", async () => {
    const res = await fetchDoc(readToken);
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe("3.1.0");
    await expect(SwaggerParser.validate(structuredClone(doc), { resolve: { http: false, file: false } } as never)).resolves.toBeTruthy();
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.sort()).toEqual(OPERATIONS.map((o) => `${o.method} ${o.path}`).sort());
    // Generated from the route's own schemas: the grant filters are the dashboard's, bodies are strict.
    const listGrants = doc.paths["/grants"].get;
    expect(listGrants.parameters.map((p: { name: string }) => p.name)).toEqual(["limit", "cursor", "api", "scope", "level", "environment", "kind", "status", "lastUsed", "principal", "q"]);
    const createGrant = doc.paths["/grants"].post.requestBody.content["application/json"].schema;
    expect(createGrant.required).toEqual(["principalId", "scopeId"]);
    expect(createGrant.additionalProperties).toBe(false);
    expect(createGrant.properties.expiresAt.anyOf[0]).toMatchObject({ type: "string", format: "date-time" });
  });

  it("needs a credential that may read the inventory", async () => {
    // (No header at all means the session, which needs Next's request context: e2e/outside.spec.ts probes it.)
    expect((await fetchDoc(`tgs_${"x".repeat(43)}`)).status).toBe(401);
    expect((await fetchDoc(otherToken)).status).toBe(403);
  });

  it("imports into Tollgate with its own importer: one endpoint per operation, the token scopes as scopes", async () => {
    const { applyImport } = await import("@/lib/discovery");
    const document = JSON.stringify(inventoryOpenApi("https://tollgate.example/api/v1"));
    const result = await applyImport(systemActor("test"), { apiName: "tollgate-inventory", environment: "production", document, filename: "openapi.json" }, { client });
    expect(result.document.label).toBe("OpenAPI 3.1.0");
    expect(result.security.newPublicWrites).toEqual([]);
    const endpoints = await client.endpoint.findMany({ where: { apiId: result.api.id! }, include: { scopes: { include: { scope: true } } } });
    expect(endpoints).toHaveLength(OPERATIONS.length);
    expect(endpoints.every((e) => !e.public)).toBe(true);
    const del = endpoints.find((e) => e.method === "DELETE" && e.pathTemplate === "/grants/{id}")!;
    expect(del.scopes.map((s) => s.scope.name)).toContain("inventory:write");
    const api = await client.api.findUniqueOrThrow({ where: { id: result.api.id! } });
    expect(api.baseUrl).toBe("https://tollgate.example/api/v1");
  });
});
