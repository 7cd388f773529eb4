import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useAppDatabase, useImportRoute } from "@/test/support/use-test-database";

// The two machine entry points over the same lib function: the HTTP route
// (service token) and the CLI (a real child process).
const run = promisify(execFile);
const PETSTORE = path.resolve("node_modules/@readme/oas-examples/3.0/yaml/petstore.yaml");
const BAD = path.resolve("test/fixtures/openapi/bad/03-unresolved-ref.yaml");

const ctx = useAppDatabase();
const route = useImportRoute(ctx, () => import("@/app/api/v1/imports/openapi/route"), { name: "usage", scopes: ["usage:ingest"] });

const url = (q: string) => `http://localhost/api/v1/imports/openapi?${q}`;

describe("POST /api/v1/imports/openapi", () => {
  it("dry run with a raw body returns the plan and writes nothing", async () => {
    const res = await route.POST(new Request(url("api=petstore&env=production&dryRun=1&baseUrl=https://pets.example"), { method: "POST", headers: { authorization: `Bearer ${route.importToken}`, "content-type": "application/yaml" }, body: readFileSync(PETSTORE) }), {});
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.dryRun).toBe(true);
    expect(body.diff.endpoints.added).toHaveLength(20);
    expect(await ctx.client.endpoint.count()).toBe(0);
  });

  it("multipart upload applies the plan that was reviewed", async () => {
    const plan = await (await route.POST(new Request(url("api=petstore&env=production&dryRun=1&baseUrl=https://pets.example"), { method: "POST", headers: { authorization: `Bearer ${route.importToken}` }, body: readFileSync(PETSTORE) }), {})).json();
    const form = new FormData();
    form.set("file", new Blob([readFileSync(PETSTORE)]), "petstore.yaml");
    form.set("planHash", plan.planHash);
    const res = await route.POST(new Request(url("api=petstore&env=production&baseUrl=https://pets.example"), { method: "POST", headers: { authorization: `Bearer ${route.importToken}` }, body: form }), {});
    expect(res.status).toBe(200);
    expect((await res.json()).applied).toBe(true);
    expect(await ctx.client.endpoint.count()).toBe(20);
  });

  it("a stale planHash is a 409", async () => {
    const res = await route.POST(new Request(url(`api=petstore&env=production&planHash=${"a".repeat(64)}`), { method: "POST", headers: { authorization: `Bearer ${route.importToken}` }, body: readFileSync(PETSTORE) }), {});
    expect(res.status).toBe(409);
  });

  it("refuses a bad token (401), a token without imports:write (403), a bad document and missing params (400)", async () => {
    const body = readFileSync(PETSTORE);
    const bad = await route.POST(new Request(url("api=x&env=production"), { method: "POST", headers: { authorization: "Bearer tgs_notarealtokennotarealtoken" }, body }), {});
    expect(bad.status).toBe(401);
    const wrongScope = await route.POST(new Request(url("api=x&env=production"), { method: "POST", headers: { authorization: `Bearer ${route.otherToken}` }, body }), {});
    expect(wrongScope.status).toBe(403);
    const badDoc = await route.POST(new Request(url("api=x&env=production"), { method: "POST", headers: { authorization: `Bearer ${route.importToken}` }, body: readFileSync(BAD) }), {});
    expect(badDoc.status).toBe(400);
    expect((await badDoc.json()).error.message).toContain("#/components/schemas/Missing");
    const noApi = await route.POST(new Request(url("env=production"), { method: "POST", headers: { authorization: `Bearer ${route.importToken}` }, body }), {});
    expect(noApi.status).toBe(400);
    expect((await noApi.json()).error.field).toBe("api");
    expect(await ctx.client.api.count({ where: { name: "x" } })).toBe(0);
  });
});

describe("npm run import:openapi", () => {
  const cli = (args: string[]) =>
    run(process.execPath, [path.resolve("node_modules/tsx/dist/cli.mjs"), "scripts/import-openapi.ts", ...args], { env: { ...process.env, DATABASE_URL: ctx.tdb.url } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it("prints the diff on a dry run, applies without it, and exits 1 on a bad document", async () => {
    const dry = await cli([PETSTORE, "--api", "cli-pets", "--env", "production", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("+ endpoint GET /pet/{petId}");
    expect(dry.stdout).toContain("+ scope write:pets [write]");
    expect(dry.stdout).toContain("nothing written");
    expect(await ctx.client.api.count({ where: { name: "cli-pets" } })).toBe(0);

    const applied = await cli([PETSTORE, "--api", "cli-pets", "--env", "production"]);
    expect(applied.code).toBe(0);
    expect(await ctx.client.endpoint.count({ where: { api: { name: "cli-pets" } } })).toBe(20);
    const audit = await ctx.client.auditEvent.findFirstOrThrow({ where: { action: "inventory.openapi_import", actor: "system:cli" } });
    expect(audit).toBeTruthy();

    const bad = await cli([BAD, "--api", "cli-pets", "--env", "production"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("unresolved $ref");
  }, 180_000); // three real child processes (tsx start-up each); slow on a loaded 2-core machine
});
