import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { AppError } from "@/lib/errors";
import { applyImport, planImport } from "@/lib/discovery";
import { openApiDoc } from "@/test/support/openapi";

const EXAMPLES = path.resolve("node_modules/@readme/oas-examples");
const GITHUB = path.resolve("node_modules/@octokit/openapi/generated/api.github.com.json");
const BAD = path.resolve("test/fixtures/openapi/bad");
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** The document's own operation count, read independently of the importer. */
function countOperations(doc: { paths?: Record<string, Record<string, unknown>> }): number {
  return Object.values(doc.paths ?? {}).reduce((n, item) => n + METHODS.filter((m) => item[m]).length, 0);
}

let tdb: TestDatabase;
let client: PrismaClient;
const admin: Actor = systemActor("test");

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  await client.environment.create({ data: { name: "production", tier: "production" } });
  const staging = await client.environment.create({ data: { name: "staging", tier: "staging" } });
  await client.proxy.create({ data: { name: "stg-1", adminUrl: "http://127.0.0.1:1", adminToken: "x".repeat(32), environmentId: staging.id } });
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

const read = (rel: string) => readFileSync(path.join(EXAMPLES, rel));

describe("real-world descriptions", () => {
  const cases = [
    { file: "2.0/json/petstore.json", api: "petstore-v2" },
    { file: "3.0/yaml/petstore.yaml", api: "petstore-v3" },
    { file: "3.0/yaml/uspto.yaml", api: "uspto" },
    { file: "3.0/yaml/security.yaml", api: "security-styles" },
    { file: "3.1/json/train-travel.json", api: "train-travel" },
  ];
  for (const c of cases) {
    it(`imports every operation of ${c.file}`, async () => {
      const text = read(c.file);
      const doc = c.file.endsWith(".json") ? JSON.parse(text.toString()) : parseYaml(text.toString());
      const expected = countOperations(doc);
      expect(expected).toBeGreaterThan(0);
      const plan = await planImport(admin, { apiName: c.api, environment: "production", document: text, filename: c.file, baseUrl: "https://upstream.example" }, { client });
      expect(plan.diff.endpoints.added).toHaveLength(expected);
      expect(await client.endpoint.count({ where: { api: { name: c.api } } })).toBe(0); // plan writes nothing
      const result = await applyImport(admin, { apiName: c.api, environment: "production", document: text, filename: c.file, baseUrl: "https://upstream.example", expectedPlanHash: plan.planHash }, { client });
      expect(await client.endpoint.count({ where: { apiId: result.api.id! } })).toBe(expected);
      // Importing the same document again changes nothing.
      const again = await planImport(admin, { apiName: c.api, environment: "production", document: text, filename: c.file }, { client });
      expect(again.empty).toBe(true);
    });
  }

  it("maps the Swagger 2.0 petstore's security: OAuth scopes, api_key synthetic scope, none declared", async () => {
    const api = await client.api.findFirstOrThrow({ where: { name: "petstore-v2" }, include: { scopes: { orderBy: { name: "asc" } } } });
    expect(api.scopes.map((s) => [s.name, s.level])).toEqual([
      ["api_key credential (read)", "read"],
      ["read:pets", "read"],
      ["write:pets", "write"],
    ]);
    const byId = await client.endpoint.findFirstOrThrow({ where: { apiId: api.id, method: "GET", pathTemplate: "/pet/{petId}" }, include: { scopes: { include: { scope: true } } } });
    expect(byId.scopes.map((s) => s.scope.name)).toEqual(["api_key credential (read)"]);
    const add = await client.endpoint.findFirstOrThrow({ where: { apiId: api.id, method: "POST", pathTemplate: "/pet" }, include: { scopes: { include: { scope: true } } } });
    expect(add.scopes.map((s) => s.scope.name).sort()).toEqual(["read:pets", "write:pets"]);
    // No security declared: protected, no scope, not public.
    const login = await client.endpoint.findFirstOrThrow({ where: { apiId: api.id, method: "GET", pathTemplate: "/user/login" }, include: { scopes: true } });
    expect(login.public).toBe(false);
    expect(login.scopes).toHaveLength(0);
    expect(api.baseUrl).toBe("https://upstream.example");
  });

  it("imports GitHub's REST description (> 500 operations) in full", async () => {
    const text = readFileSync(GITHUB);
    const expected = countOperations(JSON.parse(text.toString()));
    expect(expected).toBeGreaterThan(500);
    const result = await applyImport(admin, { apiName: "github", environment: "production", document: text, filename: "api.github.com.json" }, { client, maxBytes: 30 * 1024 * 1024 });
    expect(result.diff.endpoints.added).toHaveLength(expected);
    expect(await client.endpoint.count({ where: { apiId: result.api.id! } })).toBe(expected);
    expect(result.api.baseUrl).toBe("https://api.github.com");
  });
});

describe("re-import of a modified copy", () => {
  const base = openApiDoc({
    openapi: "3.0.3",
    title: "Orders",
    version: "1",
    server: "https://orders.example/v1",
    securitySchemes: {
      oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://id.example/token", scopes: { "orders:read": "read orders", "orders:write": "change orders", "orders:manage": "admin", "legacy:export": "old export" } } } },
      key: { type: "apiKey", in: "header", name: "X-Key" },
    },
    security: [{ oauth: ["orders:read"] }],
    paths: {
      "/orders": {
        get: { responses: { 200: { description: "ok" } } },
        post: { security: [{ oauth: ["orders:write"] }], responses: { 201: { description: "ok" } } },
      },
      "/orders/{id}": {
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        get: { summary: "one order", responses: { 200: { description: "ok" } } },
        delete: { security: [{ oauth: ["orders:manage"] }], responses: { 204: { description: "ok" } } },
      },
      "/export": { get: { security: [{ oauth: ["legacy:export"] }], responses: { 200: { description: "ok" } } } },
      "/legacy": { get: { security: [{ key: [] }], responses: { 200: { description: "ok" } } } },
      "/health": { get: { security: [], responses: { 200: { description: "ok" } } } },
    },
  });
  const input = (doc: unknown) => ({ apiName: "orders", environment: "staging", document: toYaml(doc), filename: "orders.yaml" });

  it("first import: levels inferred, public op, outbox row per proxy, audit event", async () => {
    const r = await applyImport(admin, input(base), { client });
    expect(r.diff.endpoints.added).toHaveLength(7);
    expect(Object.fromEntries(r.diff.scopes.added.map((s) => [s.name, s.level]))).toEqual({
      "orders:read": "read",
      "orders:write": "write",
      "orders:manage": "admin",
      "legacy:export": "read",
      "key credential (read)": "read",
    });
    expect(r.api.baseUrl).toBe("https://orders.example/v1");
    const health = await client.endpoint.findFirstOrThrow({ where: { apiId: r.api.id!, pathTemplate: "/health" } });
    expect(health.public).toBe(true);
    const outbox = await client.outboxItem.findMany();
    expect(outbox).toHaveLength(1);
    const ops = (outbox[0].payload as { ops: { op: string; kind: string }[] }).ops;
    expect(ops.filter((o) => o.kind === "route")).toHaveLength(7);
    expect(ops.filter((o) => o.kind === "api")).toHaveLength(1);
    const audit = await client.auditEvent.findFirstOrThrow({ where: { action: "inventory.openapi_import", target: `api:${r.api.id}` } });
    expect((audit.data as { endpoints: { added: number } }).endpoints.added).toBe(7);
  });

  it("shows exactly the expected diff, deprecates a held scope with a finding, deletes the rest", async () => {
    const api = await client.api.findFirstOrThrow({ where: { name: "orders" }, include: { scopes: true } });
    const env = await client.environment.findUniqueOrThrow({ where: { name: "staging" } });
    const person = await client.principal.create({ data: { kind: "user", displayName: "Ann" } });
    const exportScope = api.scopes.find((s) => s.name === "legacy:export")!;
    const grant = await client.grant.create({ data: { principalId: person.id, scopeId: exportScope.id, environmentId: env.id } });

    const modified = structuredClone(base) as typeof base & { paths: Record<string, unknown> };
    delete (modified.paths as Record<string, unknown>)["/export"]; // endpoint + held scope removed
    delete (modified.paths as Record<string, unknown>)["/legacy"]; // endpoint + unheld synthetic scope removed
    (modified.paths as Record<string, Record<string, unknown>>)["/orders/{id}"].get = { summary: "fetch one order", responses: { 200: { description: "ok" } } };
    (modified.paths as Record<string, Record<string, unknown>>)["/orders/{id}"].patch = { security: [{ oauth: ["orders:write"] }], responses: { 200: { description: "ok" } } };
    (modified.paths as Record<string, Record<string, { security?: unknown }>>)["/orders"].post.security = [{ oauth: ["orders:write", "orders:manage"] }];

    const plan = await planImport(admin, input(modified), { client });
    const d = plan.diff;
    expect(d.endpoints.added.map((e) => `${e.method} ${e.pathTemplate}`)).toEqual(["PATCH /orders/{id}"]);
    expect(d.endpoints.added[0].scopeLevels).toEqual({ "orders:write": "write" });
    expect(d.endpoints.changed.map((e) => [`${e.method} ${e.pathTemplate}`, e.changes.map((c) => c.field)]).sort()).toEqual([
      ["GET /orders/{id}", ["summary"]],
      ["POST /orders", ["scopes"]],
    ]);
    expect(d.endpoints.removed.map((e) => [`${e.method} ${e.pathTemplate}`, e.action]).sort()).toEqual([
      ["GET /export", "deprecate"],
      ["GET /legacy", "delete"],
    ]);
    expect(d.scopes.added).toEqual([]);
    expect(d.scopes.removed.map((s) => [s.name, s.action, s.activeGrants]).sort()).toEqual([
      ["key credential (read)", "delete", 0],
      ["legacy:export", "deprecate", 1],
    ]);
    expect(d.endpoints.unchanged).toBe(3);

    const r = await applyImport(admin, { ...input(modified), expectedPlanHash: plan.planHash }, { client });
    expect(r.findingsOpened).toBe(1);
    const finding = await client.finding.findFirstOrThrow({ where: { grantId: grant.id } });
    expect(finding.rule).toBe("deprecated_scope");
    expect(finding.severity).toBe("medium");
    expect(JSON.stringify(finding.evidence)).toContain("legacy:export was removed");
    expect((await client.scope.findUniqueOrThrow({ where: { id: exportScope.id } })).deprecatedAt).not.toBeNull();
    expect(await client.scope.count({ where: { apiId: api.id, name: "key credential (read)" } })).toBe(0);
    expect((await client.endpoint.findFirstOrThrow({ where: { apiId: api.id, pathTemplate: "/export" } })).deprecatedAt).not.toBeNull();
    expect(await client.endpoint.count({ where: { apiId: api.id, pathTemplate: "/legacy" } })).toBe(0);
    const last = await client.outboxItem.findFirstOrThrow({ orderBy: { id: "desc" } });
    const ops = (last.payload as { ops: { op: string; kind: string; id?: string }[] }).ops;
    expect(ops.filter((o) => o.op === "delete").length).toBe(1);
    expect(ops.filter((o) => o.op === "upsert" && o.kind === "route").length).toBe(3);
    expect(ops.filter((o) => o.op === "upsert" && o.kind === "api").length).toBe(1);
  });

  it("refuses a stale plan with 409 and writes nothing", async () => {
    const changed = structuredClone(base) as typeof base & { paths: Record<string, unknown> };
    (changed.paths as Record<string, unknown>)["/new"] = { get: { responses: { 200: { description: "ok" } } } };
    const plan = await planImport(admin, input(changed), { client });
    const api = await client.api.findFirstOrThrow({ where: { name: "orders" } });
    const scope = await client.scope.findFirstOrThrow({ where: { apiId: api.id, name: "orders:read" } });
    await client.scope.update({ where: { id: scope.id }, data: { level: "write" } }); // someone edits the inventory
    const before = await client.endpoint.count();
    const err = await applyImport(admin, { ...input(changed), expectedPlanHash: plan.planHash }, { client }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.status).toBe(409);
    expect(await client.endpoint.count()).toBe(before);
  });

  it("keeps an admin's level edit across re-imports", async () => {
    const api = await client.api.findFirstOrThrow({ where: { name: "orders" } });
    const plan = await planImport(admin, input(base), { client });
    expect(plan.diff.scopes.changed.map((s) => s.name)).toEqual(["legacy:export"]); // undeprecated
    await applyImport(admin, { ...input(base), expectedPlanHash: plan.planHash }, { client });
    expect((await client.scope.findFirstOrThrow({ where: { apiId: api.id, name: "orders:read" } })).level).toBe("write");
  });

  it("requires imports:write", async () => {
    const reviewer: Actor = { kind: "user", userId: "00000000-0000-4000-8000-000000000001", email: "r@x", name: "r", roles: ["reviewer"], principalId: null };
    await expect(planImport(reviewer, input(base), { client })).rejects.toMatchObject({ status: 403 });
  });
});

describe("bad documents", () => {
  async function inventoryChecksum(): Promise<string> {
    const tables = ["Api", "Endpoint", "Scope", "EndpointScope", "Finding", "OutboxItem", "AuditEvent", "Grant"];
    const parts: string[] = [];
    for (const t of tables) {
      const [row] = await client.$queryRawUnsafe<{ n: bigint; sum: string | null }[]>(
        `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS sum FROM "${t}" t`,
      );
      parts.push(`${t}:${row.n}:${row.sum}`);
    }
    return parts.join("|");
  }

  const files = readdirSync(BAD).sort();
  it("has a corpus of at least 20 files", () => expect(files.length).toBeGreaterThanOrEqual(20));

  it.each(files)("%s gives a 400 naming the problem and changes nothing", async (file) => {
    const before = await inventoryChecksum();
    const err = await applyImport(admin, { apiName: "orders", environment: "staging", document: readFileSync(path.join(BAD, file)), filename: file }, { client }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.status).toBe(400);
    expect(err.message.length).toBeGreaterThan(10);
    expect(await inventoryChecksum()).toBe(before);
  });

  it("names line and column for invalid YAML and the pointer for an unresolved $ref", async () => {
    const yamlErr = await planImport(admin, { apiName: "x", environment: "staging", document: readFileSync(path.join(BAD, "01-invalid-yaml-indent.yaml")) }, { client }).catch((e) => e);
    expect(yamlErr.message).toMatch(/line 8, column \d+/);
    const refErr = await planImport(admin, { apiName: "x", environment: "staging", document: readFileSync(path.join(BAD, "03-unresolved-ref.yaml")) }, { client }).catch((e) => e);
    expect(refErr.message).toContain("#/components/schemas/Missing");
    const ssrf = await planImport(admin, { apiName: "x", environment: "staging", document: readFileSync(path.join(BAD, "04-external-http-ref.yaml")) }, { client }).catch((e) => e);
    expect(ssrf.message).toContain("external $ref");
  });

  it("refuses a document over the size limit", async () => {
    const before = await inventoryChecksum();
    const big = JSON.stringify({ openapi: "3.0.3", info: { title: "x", version: "1" }, paths: {}, "x-pad": "a".repeat(6 * 1024 * 1024) });
    const err = await applyImport(admin, { apiName: "orders", environment: "staging", document: big }, { client }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/over the limit of 5242880 bytes/);
    expect(await inventoryChecksum()).toBe(before);
  });
});
