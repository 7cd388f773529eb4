import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor } from "@/lib/auth/actor";
import { AppError } from "@/lib/errors";
import { applyImport, planImport } from "@/lib/discovery";
import { importFromRequest } from "./http";
import { formatPlan } from "./format";
import { openApiDoc } from "@/test/support/openapi";

// Issue 17, point 2: operations that accept no credential. OpenAPI 3.0.3 §4.7.30 / 3.1 §4.8.30:
// an empty Security Requirement Object `{}` among the alternatives makes security optional, and
// `security: []` on an operation removes the top-level requirement; Swagger 2.0 §Security
// Requirement Object likewise. Without any `security` declared, nothing is said: Tollgate keeps
// such an operation protected with no scope.

const jiraLike = openApiDoc({
  openapi: "3.0.1",
  title: "Jira-like",
  version: "3",
  server: "https://jira.example",
  securitySchemes: {
    basicAuth: { type: "http", scheme: "basic" },
    OAuth2: { type: "oauth2", flows: { authorizationCode: { authorizationUrl: "https://auth.example/a", tokenUrl: "https://auth.example/t", scopes: { "read:jira-work": "", "write:jira-work": "" } } } },
  },
  paths: {
    "/rest/api/3/attachment/{id}": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      get: { security: [{ basicAuth: [] }, { OAuth2: ["read:jira-work"] }, {}], responses: { 200: { description: "ok" } } },
      delete: { security: [{ basicAuth: [] }, { OAuth2: ["write:jira-work"] }, {}], responses: { 204: { description: "ok" } } },
    },
    "/rest/api/3/issue": { post: { security: [{ OAuth2: ["write:jira-work"] }, {}], responses: { 201: { description: "ok" } } } },
    "/rest/api/3/serverInfo": { get: { security: [], responses: { 200: { description: "ok" } } } },
    "/rest/api/3/issue/{id}": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      get: { security: [{ OAuth2: ["read:jira-work"] }], responses: { 200: { description: "ok" } } },
    },
    // No security here and none at the top level: nobody can call these until a scope is assigned.
    "/rest/api/3/legacy": { get: { responses: { 200: { description: "ok" } } }, put: { responses: { 200: { description: "ok" } } } },
  },
});

let tdb: TestDatabase;
let client: PrismaClient;
const admin = systemActor("test");
const input = (doc: unknown, environment = "production", apiName = "jira") => ({ apiName, environment, document: toYaml(doc) });

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 2);
  await client.environment.create({ data: { name: "production", tier: "production" } });
  await client.environment.create({ data: { name: "staging", tier: "staging" } });
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

describe("operations that accept no credential", () => {
  it("the plan counts public reads and writes and operations with no security, in its summary", async () => {
    const plan = await planImport(admin, input(jiraLike), { client });
    expect(plan.security).toMatchObject({ publicReads: 2, publicWrites: 2, noSecurity: 2 });
    expect(plan.security.newPublicWrites.sort()).toEqual(["DELETE /rest/api/3/attachment/{id}", "POST /rest/api/3/issue"]);
    expect(plan.security.messages).toContain("2 operations have no security requirement: nobody can call them until a scope is assigned");
    expect(plan.security.messages[0]).toBe("4 operations accept no credential: 2 reads, 2 writes (DELETE /rest/api/3/attachment/{id}, POST /rest/api/3/issue)");
    expect(formatPlan(plan)).toContain("! 2 write operations would be opened to anyone: applying needs an explicit confirmation");
  });

  it("refuses to apply public writes without an explicit confirmation, and writes nothing", async () => {
    const err = await applyImport(admin, input(jiraLike), { client }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.status).toBe(400);
    expect(err.field).toBe("confirmPublicWrites");
    expect(err.message).toContain("DELETE /rest/api/3/attachment/{id}");
    expect(await client.endpoint.count()).toBe(0);
    expect(await client.api.count()).toBe(0);
  });

  it("with the confirmation: a finding per public write endpoint in production; no-security operations stay protected", async () => {
    const r = await applyImport(admin, { ...input(jiraLike), confirmPublicWrites: true }, { client });
    expect(r.security).toMatchObject({ publicReads: 2, publicWrites: 2, noSecurity: 2 });
    expect(r.publicWriteFindings).toEqual({ opened: 2, resolved: 0 });
    const findings = await client.endpointFinding.findMany({ include: { endpoint: true } });
    expect(findings.map((f) => [f.rule, f.severity, f.status, `${f.endpoint.method} ${f.endpoint.pathTemplate}`]).sort()).toEqual([
      ["public_write", "high", "open", "DELETE /rest/api/3/attachment/{id}"],
      ["public_write", "high", "open", "POST /rest/api/3/issue"],
    ]);
    const legacy = await client.endpoint.findMany({ where: { pathTemplate: "/rest/api/3/legacy" }, include: { scopes: true } });
    expect(legacy.map((e) => [e.method, e.public, e.scopes.length]).sort()).toEqual([["GET", false, 0], ["PUT", false, 0]]);
    const audit = await client.auditEvent.findFirstOrThrow({ where: { action: "inventory.openapi_import" } });
    expect(audit.data).toMatchObject({ publicOperations: { reads: 2, writes: 2, newWrites: 2 }, noSecurity: 2 });
  });

  it("a re-import of the same document needs no new confirmation and opens no duplicate finding", async () => {
    const again = structuredClone(jiraLike) as typeof jiraLike;
    (again.info as { version: string }).version = "3.1";
    const r = await applyImport(admin, input(again), { client });
    expect(r.publicWriteFindings).toEqual({ opened: 0, resolved: 0 });
    expect(await client.endpointFinding.count({ where: { status: "open" } })).toBe(2);
  });

  it("a finding is resolved once its endpoint requires a credential again", async () => {
    const fixed = structuredClone(jiraLike) as { paths: Record<string, Record<string, { security?: unknown }>> };
    fixed.paths["/rest/api/3/attachment/{id}"].delete.security = [{ OAuth2: ["write:jira-work"] }];
    const r = await applyImport(admin, input(fixed), { client });
    expect(r.publicWriteFindings).toEqual({ opened: 0, resolved: 1 });
    const del = await client.endpointFinding.findFirstOrThrow({ where: { endpoint: { method: "DELETE" } } });
    expect(del.status).toBe("resolved");
  });

  it("outside production: the confirmation is still required, no finding is opened", async () => {
    await expect(applyImport(admin, input(jiraLike, "staging", "jira-stg"), { client })).rejects.toMatchObject({ status: 400, field: "confirmPublicWrites" });
    const r = await applyImport(admin, { ...input(jiraLike, "staging", "jira-stg"), confirmPublicWrites: true }, { client });
    expect(r.publicWriteFindings.opened).toBe(0);
  });

  it("Swagger 2.0 `security: []` on a POST, confirmed through the HTTP entry point", async () => {
    const swagger = {
      swagger: "2.0",
      info: { title: "Old", version: "1" },
      host: "old.example",
      securityDefinitions: { key: { type: "apiKey", in: "header", name: "X-Key" } },
      security: [{ key: [] }],
      paths: { "/signup": { post: { security: [], responses: { 201: { description: "ok" } } } }, "/me": { get: { responses: { 200: { description: "ok" } } } } },
    };
    const url = (extra: string) => `https://t.example/api/v1/imports/openapi?api=old&env=production${extra}`;
    const send = (extra: string) => importFromRequest(admin, new Request(url(extra), { method: "POST", body: JSON.stringify(swagger) }), { client });
    await expect(send("")).rejects.toMatchObject({ status: 400, field: "confirmPublicWrites" });
    const r = await send("&confirmPublicWrites=1");
    expect(r).toMatchObject({ dryRun: false, security: { publicWrites: 1, publicReads: 0, noSecurity: 0 }, publicWriteFindings: { opened: 1 } });
  });
});
