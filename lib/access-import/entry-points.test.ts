import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { useAppDatabase, useImportRoute } from "@/test/support/use-test-database";

// The machine entry points over the same lib function: the HTTP route (service
// token, multipart or raw body) and the CLI (a real child process).
const run = promisify(execFile);
const FIXTURE = readFileSync(path.resolve("test/fixtures/kong/acceptance.yml"), "utf8");
// Over HTTP placeholders are never resolved: the file is uploaded already substituted.
const RESOLVED = FIXTURE.replace(/\$\{UPSTREAM_URL\}/g, "http://upstream.test").replace('${{ env "DECK_DAVE_KEY" }}', "dave-secret-from-env");

const ctx = useAppDatabase();
const route = useImportRoute(ctx, () => import("@/app/api/v1/imports/access/route"), { name: "inv", scopes: ["inventory:read"] });

beforeAll(async () => {
  await ctx.client.environment.create({ data: { name: "staging", tier: "staging" } });
});

const url = (q: string) => `http://localhost/api/v1/imports/access?${q}`;

describe("POST /api/v1/imports/access", () => {
  it("refuses a token without imports:write (403) and writes nothing", async () => {
    const res = await route.POST(new Request(url("env=production&dryRun=1"), { method: "POST", headers: { authorization: `Bearer ${route.otherToken}` }, body: RESOLVED }), {});
    expect(res.status).toBe(403);
    expect(await ctx.client.principal.count()).toBe(0);
  });

  it("never resolves placeholders from the server's environment", async () => {
    process.env.DECK_DAVE_KEY = "from-the-server";
    const res = await route.POST(new Request(url("env=production&dryRun=1"), { method: "POST", headers: { authorization: `Bearer ${route.importToken}` }, body: FIXTURE }), {});
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/unresolved environment placeholder\(s\).*DECK_DAVE_KEY/);
    delete process.env.DECK_DAVE_KEY;
  });

  it("plans (dry run), then applies the reviewed plan from a multipart upload; a stale hash is 409", async () => {
    const planRes = await route.POST(new Request(url("env=production&dryRun=1"), { method: "POST", headers: { authorization: `Bearer ${route.importToken}` }, body: RESOLVED }), {});
    expect(planRes.status).toBe(200);
    const plan = await planRes.json();
    expect(plan.dryRun).toBe(true);
    expect(plan.counts.principal.create).toBe(4);
    expect(JSON.stringify(plan)).not.toContain("secret");
    const form = new FormData();
    form.set("file", new Blob([RESOLVED]), "kong.yml");
    form.set("planHash", "0".repeat(64));
    const stale = await route.POST(new Request(url("env=production"), { method: "POST", headers: { authorization: `Bearer ${route.importToken}` }, body: form }), {});
    expect(stale.status).toBe(409);
    expect(await ctx.client.principal.count()).toBe(0);
    form.set("planHash", plan.planHash);
    const res = await route.POST(new Request(url("env=production"), { method: "POST", headers: { authorization: `Bearer ${route.importToken}` }, body: form }), {});
    expect(res.status).toBe(200);
    expect((await res.json()).applied).toBe(true);
    expect(await ctx.client.principal.count()).toBe(4);
  });
});

describe("POST /api/v1/imports/access with a raw NDJSON body", () => {
  const example = readFileSync(path.resolve("test/fixtures/access/example.ndjson"), "utf8");
  const post = (q: string, body: ReadableStream<Uint8Array> | string) =>
    route.POST(new Request(url(q), { method: "POST", headers: { authorization: `Bearer ${route.importToken}`, "content-type": "application/x-ndjson" }, body, duplex: "half" } as RequestInit), {});

  it("plans from the body as it streams", async () => {
    const res = await post("env=production&format=ndjson&dryRun=1", example);
    expect(res.status).toBe(200);
    const plan = await res.json();
    expect(plan.counts.grant.create).toBe(3);
    expect(JSON.stringify(plan)).not.toContain("rep-0f5b1c2d9e8a7b6c");
  });

  it("stops reading a body past the limit (no content-length) and at a bad line: the rest is never pulled", async () => {
    let pulled = 0;
    const endless = (first: string, filler: string) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode(first));
        },
        pull(c) {
          pulled++;
          c.enqueue(new TextEncoder().encode(filler));
        },
      });
    process.env.TOLLGATE_ACCESS_IMPORT_MAX_BYTES = String(64 * 1024);
    try {
      const big = await post("env=production&format=ndjson", endless(example, "\n".repeat(1024)));
      expect(big.status).toBe(400);
      expect((await big.json()).error.message).toMatch(/over the limit of 65536 bytes/);
      expect(pulled).toBeLessThan(1_000);
      pulled = 0;
      const bad = await post("env=production&format=ndjson", endless(`${example}{not json\n`, '{"kind":"principal","id":"p","name":"P"}\n'));
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.message).toMatch(/upload:16: not a JSON object/);
      expect(pulled).toBeLessThan(1_000);
    } finally {
      delete process.env.TOLLGATE_ACCESS_IMPORT_MAX_BYTES;
    }
    expect(await ctx.client.principal.count({ where: { displayName: "Reporting service" } })).toBe(0);
  });
});

describe("npm run import:access", () => {
  it("resolves only the variables named with --var, plans, applies, and re-applies as a no-op", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kong-cli-"));
    const file = path.join(dir, "kong.yml");
    // Other keys than the HTTP test's: a key belongs to one principal across environments.
    writeFileSync(file, FIXTURE.replace(/secret-key-1/g, "staging-key-1"));
    const env = { ...process.env, DATABASE_URL: ctx.tdb.url, UPSTREAM_URL: "http://upstream.test", DECK_DAVE_KEY: "dave-staging-key" };
    const cli = (...args: string[]) => run("npx", ["tsx", "scripts/import-access.ts", file, "--env", "staging", ...args], { env }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    const unnamed = await cli("--dry-run", "--var", "UPSTREAM_URL");
    expect(unnamed.code).toBe(1);
    expect(unnamed.out).toMatch(/DECK_DAVE_KEY at \/consumers\/3\/keyauth_credentials\/0\/key/);
    const dry = await cli("--dry-run", "--var", "UPSTREAM_URL", "--var", "DECK_DAVE_KEY");
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toMatch(/principal +\+4/);
    expect(dry.out).not.toContain("dave-staging-key");
    const applied = await cli("--var", "UPSTREAM_URL", "--var", "DECK_DAVE_KEY");
    expect(applied.code, applied.out).toBe(0);
    expect(applied.out).toMatch(/applied:/);
    const again = await cli("--var", "UPSTREAM_URL", "--var", "DECK_DAVE_KEY");
    expect(again.out).toMatch(/nothing to apply/);
  }, 120_000);

  it("streams an NDJSON file (--format ndjson): applies it, and a bad line is refused naming the line", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ndjson-cli-"));
    const good = path.join(dir, "access.ndjson");
    const bad = path.join(dir, "bad.ndjson");
    const example = readFileSync(path.resolve("test/fixtures/access/example.ndjson"), "utf8");
    writeFileSync(good, example);
    writeFileSync(bad, `${example}{"kind":"grant","principal":"nobody","api":"billing","scope":"invoices:read"}\n`);
    const env = { ...process.env, DATABASE_URL: ctx.tdb.url };
    const cli = (file: string) => run("npx", ["tsx", "scripts/import-access.ts", file, "--env", "staging", "--format", "ndjson"], { env }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    const refused = await cli(bad);
    expect(refused.code, refused.out).toBe(1);
    expect(refused.out).toMatch(/bad\.ndjson:16: principal nobody is not defined in this file/);
    const applied = await cli(good);
    expect(applied.code, applied.out).toBe(0);
    expect(applied.out).toMatch(/applied:/);
    expect(await ctx.client.principal.count({ where: { displayName: "Reporting service" } })).toBe(1);
  }, 120_000);

  it("reads a directory of CSV files (--format csv) and names file, line and column when one is bad", async () => {
    const dir = csvExample("cli");
    await ctx.client.environment.create({ data: { name: "csv-cli", tier: "staging" } });
    const env = { ...process.env, DATABASE_URL: ctx.tdb.url };
    const cli = (...files: string[]) => run("npx", ["tsx", "scripts/import-access.ts", ...files, "--env", "csv-cli", "--format", "csv"], { env }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    const bad = mkdtempSync(path.join(os.tmpdir(), "csv-bad-"));
    writeFileSync(path.join(bad, "principals.csv"), "id,name,type\nsvc-a,A,robot\n");
    const refused = await cli(path.join(bad, "principals.csv"));
    expect(refused.code, refused.out).toBe(1);
    expect(refused.out).toMatch(/principals\.csv:2:3: type: /);
    const applied = await cli(dir);
    expect(applied.code, applied.out).toBe(0);
    expect(applied.out).toMatch(/applied:/);
    expect(applied.out).not.toContain("cli-secret");
    const again = await cli(...["apis", "scopes", "endpoints", "principals", "credentials", "grants"].map((k) => path.join(dir, `${k}.csv`)));
    expect(again.out).toMatch(/nothing to apply/);
  }, 120_000);
});

/** The documented CSV example in a directory of its own, with keys only this test uses (a key belongs to one principal). */
function csvExample(tag: string): string {
  const from = path.resolve("test/fixtures/access/csv");
  const dir = mkdtempSync(path.join(os.tmpdir(), `csv-${tag}-`));
  for (const name of readdirSync(from)) {
    const text = readFileSync(path.join(from, name), "utf8")
      .replace("rep-0f5b1c2d9e8a7b6c", `${tag}-secret-1`)
      .replace(/9f86d0[0-9a-f]{58}/, createHash("sha256").update(`${tag}-secret-2`).digest("hex"));
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe("POST /api/v1/imports/access with CSV files", () => {
  it("takes one multipart file field per CSV file: plans, applies the reviewed plan; a raw CSV body is refused", async () => {
    const dir = csvExample("http");
    await ctx.client.environment.create({ data: { name: "csv-http", tier: "staging" } });
    const form = (extra: Record<string, string> = {}) => {
      const f = new FormData();
      for (const name of readdirSync(dir)) f.append("file", new Blob([readFileSync(path.join(dir, name))]), name);
      for (const [k, v] of Object.entries(extra)) f.set(k, v);
      return f;
    };
    const post = (q: string, body: FormData | string) => route.POST(new Request(url(q), { method: "POST", headers: { authorization: `Bearer ${route.importToken}` }, body }), {});
    const raw = await post("env=csv-http&format=csv&dryRun=1", readFileSync(path.join(dir, "principals.csv"), "utf8"));
    expect(raw.status).toBe(400);
    expect((await raw.json()).error.message).toMatch(/multipart body with one "file" field per file/);
    const planRes = await post("env=csv-http&format=csv&dryRun=1", form());
    expect(planRes.status).toBe(200);
    const plan = await planRes.json();
    expect(plan.counts.principal.create).toBe(2);
    expect(plan.counts.grant.create).toBe(3);
    expect(JSON.stringify(plan)).not.toContain("http-secret");
    const res = await post("env=csv-http&format=csv", form({ planHash: plan.planHash }));
    expect(res.status).toBe(200);
    expect((await res.json()).applied).toBe(true);
    const again = await post("env=csv-http&format=csv&dryRun=1", form());
    expect((await again.json()).empty).toBe(true);
  });
});
