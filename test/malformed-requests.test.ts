import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";

// Issue 14 item 6: malformed requests that were 5xx (or a 200 cut mid-stream
// after an export record was written). Each must be a 4xx, and no export
// record may be written for it.
const PETSTORE = path.resolve("node_modules/@readme/oas-examples/3.0/yaml/petstore.yaml");

let tdb: TestDatabase;
let client: PrismaClient;
let token = "";
type Handler = (req: Request, ctx: unknown) => Promise<Response>;
let reportGET: Handler;
let importPOST: Handler;
let authPOST: Handler;

beforeAll(async () => {
  tdb = await createTestDatabase();
  process.env.DATABASE_URL = tdb.url;
  process.env.NEXTAUTH_SECRET ??= "a-test-secret-of-enough-length";
  const { db } = await import("@/lib/db");
  client = db();
  const { createServiceToken } = await import("@/lib/auth/service-tokens");
  const { systemActor } = await import("@/lib/auth/actor");
  token = (await createServiceToken(systemActor("test"), { name: "auditor-bot", scopes: ["reports:export", "imports:write"] })).token;
  await client.environment.create({ data: { name: "production", tier: "production" } });
  await client.team.create({ data: { name: "payments" } });
  ({ GET: reportGET } = (await import("@/app/api/v1/reports/[report]/route")) as unknown as { GET: Handler });
  ({ POST: importPOST } = (await import("@/app/api/v1/imports/openapi/route")) as unknown as { POST: Handler });
  ({ POST: authPOST } = (await import("@/app/api/auth/[...nextauth]/route")) as unknown as { POST: Handler });
});
afterAll(async () => {
  const { closeReportPool } = await import("@/lib/reports/cursor");
  await closeReportPool().catch(() => undefined);
  await client?.$disconnect();
  await tdb?.drop();
});

const report = (name: string, qs: string) =>
  reportGET(new Request(`http://localhost/api/v1/reports/${name}?${qs}`, { headers: { authorization: `Bearer ${token}` } }), { params: Promise.resolve({ report: name }) });

describe("report exports", () => {
  const cases: [string, string][] = [
    ["inventory", "environment=%00"],
    ["inventory", "environment=prod%01uction"],
    ["inventory", "team=%00payments"],
    ["revocations", "environment=%1B%5B31m"],
    ["exceptions", "team=pay%7Fments"],
    ["inventory", "asOf=0000-01-01"],
    ["inventory", "asOf=0000-01-01T00:00:00Z"],
    ["inventory", "asOf=1969-12-31"],
    ["revocations", "from=0000-01-01"],
    ["revocations", "to=0000-01-01"],
    ["inventory", "environment=nowhere"],
    ["inventory", "team=nobody"],
    ["revocations", "environment=nowhere"],
    ["exceptions", "environment=production&team=nobody"],
  ];
  for (const [name, qs] of cases) {
    it(`${name}?${qs} is a 4xx naming the field, with no export record`, async () => {
      const before = await client.reportExport.count();
      const res = await report(name, `format=csv&${qs}`);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const body = await res.json();
      expect(body.error.field).toMatch(/^(environment|team|asOf|from|to)$/);
      expect(await client.reportExport.count()).toBe(before);
    });
  }

  it("the same filters naming what exists still export (and are recorded)", async () => {
    const before = await client.reportExport.count();
    const res = await report("inventory", "format=csv&environment=production&team=payments&asOf=2026-01-01");
    expect(res.status).toBe(200);
    await res.text();
    expect(await client.reportExport.count()).toBe(before + 1);
  });
});

describe("OpenAPI import query strings", () => {
  for (const qs of ["api=x&env=%00", "api=%00x&env=production", "api=x&env=prod%0Auction"]) {
    it(`${qs} is a 400`, async () => {
      const res = await importPOST(
        new Request(`http://localhost/api/v1/imports/openapi?dryRun=1&baseUrl=https://x.example&${qs}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: readFileSync(PETSTORE) }),
        {},
      );
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toContain("control characters");
    });
  }
});

describe("next-auth endpoints", () => {
  it("POST /api/auth/callback/demo with the JSON body `{` is a 400", async () => {
    const res = await authPOST(
      new Request("http://localhost/api/auth/callback/demo", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }),
      { params: Promise.resolve({ nextauth: ["callback", "demo"] }) },
    );
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("bad_request");
  });
});
