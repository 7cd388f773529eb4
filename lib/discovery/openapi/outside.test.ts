import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { AppError } from "@/lib/errors";
import { applyImport, planImport } from "@/lib/discovery";
import { importFromRequest } from "./http";

// OpenAPI import from outside: every description @readme/oas-examples ships
// (real-world and edge-case 2.0/3.0/3.1 documents), counted against the
// document itself, and hostile documents that must give a 400 and write nothing.
const EXAMPLES = path.resolve("node_modules/@readme/oas-examples");
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

let tdb: TestDatabase;
let client: PrismaClient;
const admin: Actor = systemActor("test");

beforeAll(async () => {
  tdb = await createTestDatabase();
  process.env.DATABASE_URL = tdb.url; // the HTTP entry point reads its size limit from the environment
  client = createDb(tdb.url, 4);
  await client.environment.create({ data: { name: "production", tier: "production" } });
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

/** Operations in the document, counted independently (a path item may be a `$ref` to another path item). */
function countOperations(doc: { paths?: Record<string, Record<string, unknown>> }): number {
  const paths = doc.paths ?? {};
  return Object.values(paths).reduce((n, item) => {
    let it = item;
    const ref = item?.$ref;
    if (typeof ref === "string" && ref.startsWith("#/paths/")) it = paths[ref.slice("#/paths/".length).replace(/~1/g, "/").replace(/~0/g, "~")];
    return n + METHODS.filter((m) => it && it[m]).length;
  }, 0);
}

function examples(): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(EXAMPLES, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (/\.(json|ya?ml)$/.test(e.name)) out.push(r);
    }
  };
  for (const v of ["2.0", "3.0", "3.1"]) walk(v);
  return out.sort();
}

const snapshot = async () =>
  JSON.stringify({ apis: await client.api.count(), endpoints: await client.endpoint.count(), scopes: await client.scope.count(), audit: await client.auditEvent.count(), outbox: await client.outboxItem.count() });

describe("every document in @readme/oas-examples", () => {
  it("plans with exactly the document's operation count, or a 400 naming a real problem", async () => {
    const files = examples();
    expect(files.length).toBeGreaterThan(100);
    const mismatches: string[] = [];
    let planned = 0;
    for (const rel of files) {
      const text = readFileSync(path.join(EXAMPLES, rel));
      const doc = rel.endsWith(".json") ? JSON.parse(text.toString()) : parseYaml(text.toString(), { maxAliasCount: -1 });
      if (!doc.openapi && !doc.swagger) continue; // workshop fragments that are not whole documents
      try {
        const plan = await planImport(admin, { apiName: rel, environment: "production", document: text, filename: rel, baseUrl: "https://upstream.example" }, { client });
        planned++;
        if (plan.document.operations !== countOperations(doc)) mismatches.push(`${rel}: ${plan.document.operations} vs ${countOperations(doc)}`);
      } catch (e) {
        if (!(e instanceof AppError) || e.status !== 400) mismatches.push(`${rel}: ${(e as Error).message}`);
        else mismatches.push(`${rel}: 400 ${e.message}`);
      }
    }
    // Checked by hand: real problems of those documents. OAS 3.0 requires at least one response;
    // response-http-behavior requires an "api_key" scheme it never declares (it has no components at all).
    expect(mismatches).toHaveLength(3);
    expect(mismatches[0]).toMatch(/^3\.0\/json\/openapi-workshop\/post\.json: 400 .*responses must NOT have fewer than 1 properties/);
    expect(mismatches[1]).toMatch(/^3\.0\/json\/response-http-behavior\.json: 400 .*\/paths\/~1cache\/get\/security\/0\/api_key names the scheme "api_key"/);
    expect(mismatches[2]).toMatch(/^3\.0\/yaml\/response-http-behavior\.yaml: 400 .*\/paths\/~1cache\/get\/security\/0\/api_key names the scheme "api_key"/);
    expect(planned).toBeGreaterThan(100);
  }, 300_000);

  it("applies a few of them through the HTTP entry point as raw bodies", async () => {
    for (const rel of ["3.1/json/webhooks.json", "3.0/json/readme-extensions.json", "2.0/yaml/petstore-simple.yaml"]) {
      const body = readFileSync(path.join(EXAMPLES, rel));
      const req = new Request(`https://t.example/api/v1/imports/openapi?api=${encodeURIComponent(rel)}&env=production&baseUrl=https://up.example`, { method: "POST", body });
      const result = await importFromRequest(admin, req);
      const doc = rel.endsWith(".json") ? JSON.parse(body.toString()) : parseYaml(body.toString());
      expect(await client.endpoint.count({ where: { api: { name: rel } } }), rel).toBe(countOperations(doc));
      expect(result.dryRun).toBe(false);
    }
  }, 120_000);
});

describe("hostile documents", () => {
  const info = { title: "t", version: "1" };
  const op = (extra: object = {}) => ({ responses: { "200": { description: "ok" } }, ...extra });
  const attempt = async (document: string | Buffer, name: string) => {
    try {
      await applyImport(admin, { apiName: `hostile-${name}`, environment: "production", document, baseUrl: "https://up.example" }, { client });
      return "applied";
    } catch (e) {
      return e instanceof AppError ? `${e.status}` : `crash: ${(e as Error).message.slice(0, 200)}`;
    }
  };

  it("NUL bytes, lone surrogates, deep nesting and odd templates give a 400 and write nothing", async () => {
    const before = await snapshot();
    const deepJson = '{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},"x":' + "[".repeat(20_000) + "]".repeat(20_000) + "}";
    const deepYaml = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx: " + "[".repeat(5_000) + "]".repeat(5_000) + "\n";
    const cases: [string, string][] = [
      ["nul-summary", JSON.stringify({ openapi: "3.0.3", info, paths: { "/a": { get: op({ summary: "a\u0000b" }) } } })],
      ["nul-path", JSON.stringify({ openapi: "3.0.3", info, paths: { "/a\u0000": { get: op() } } })],
      ["nul-scope", JSON.stringify({ openapi: "3.0.3", info, paths: { "/a": { get: op({ security: [{ oauth: ["read\u0000"] }] }) } }, components: { securitySchemes: { oauth: { type: "oauth2", flows: { implicit: { authorizationUrl: "https://x", scopes: { "read\u0000": "r" } } } } } } })],
      ["nul-title", JSON.stringify({ openapi: "3.0.3", info: { title: "t\u0000", version: "1" }, paths: { "/a": { get: op() } } })],
      ["surrogate-summary", '{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"summary":"\\ud800","responses":{"200":{"description":"ok"}}}}}}'],
      ["deep-json", deepJson],
      ["deep-yaml", deepYaml],
      ["unbalanced-template", JSON.stringify({ openapi: "3.0.3", info, paths: { "/a/{id": { get: op() } } })],
      ["dot-segment-template", JSON.stringify({ openapi: "3.0.3", info, paths: { "/a/../admin": { get: op() } } })],
      ["space-in-template", JSON.stringify({ openapi: "3.0.3", info, paths: { "/a b": { get: op() } } })],
      ["huge-template", JSON.stringify({ openapi: "3.0.3", info, paths: { ["/" + "a".repeat(5000)]: { get: op() } } })],
      ["ref-http", JSON.stringify({ openapi: "3.0.3", info, paths: { "/a": { $ref: "http://169.254.169.254/latest/meta-data" } } })],
      ["ref-file", JSON.stringify({ openapi: "3.0.3", info, paths: { "/a": { get: op({ parameters: [{ $ref: "file:///etc/passwd" }] }) } } })],
      ["ref-relative-file", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: '../../../etc/passwd'\n"],
      ["yaml-merge-bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\nopenapi: 3.0.3\n"],
      ["yaml-custom-tag", "openapi: 3.0.3\ninfo: !!js/function 'function(){}'\npaths: {}\n"],
    ];
    const got = [];
    for (const [name, doc] of cases) got.push(`${name}: ${await attempt(doc, name)}`);
    expect(got).toEqual(cases.map(([name]) => `${name}: 400`));
    expect(await snapshot()).toBe(before);
  }, 120_000);

  it("a body without Content-Length is still cut off at the size limit", async () => {
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        sent += chunk.length;
        if (sent > 64 * 1024 * 1024) c.close();
        else c.enqueue(chunk);
      },
    });
    const req = new Request("https://t.example/api/v1/imports/openapi?api=big&env=production", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    const err = await importFromRequest(admin, req, { maxBytes: 1024 * 1024 }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.status).toBe(400);
    expect(err.field).toBe("document");
    // It stopped reading soon after the limit instead of buffering all 64 MB.
    expect(sent).toBeLessThan(4 * 1024 * 1024);
  });
});
