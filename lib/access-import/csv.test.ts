import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import type { PrismaClient } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "@/test/support/use-test-database";
import { readCsvFiles } from "./csv";
import { expectAdminGrantGone } from "@/test/support/access-import";
import { applyAccessImport, planAccessImport } from "./index";
import { readNdjson } from "./ndjson";

// Tollgate's CSV format (docs/IMPORT.md): the documented example files (the
// same access as example.ndjson) through plan -> apply -> no-op re-import ->
// removed from source, and bad files named by file, line and column.
const DIR = path.resolve("test/fixtures/access/csv");
const EXAMPLE: Record<string, string> = Object.fromEntries(readdirSync(DIR).map((f) => [f, readFileSync(path.join(DIR, f), "utf8")]));
const KEY = "rep-0f5b1c2d9e8a7b6c";
const admin = systemActor("test");
const ctx = useTestDatabase(4);
let client: PrismaClient;

beforeAll(async () => {
  client = ctx.client;
  await client.environment.create({ data: { name: "production", tier: "production" } });
});

const files = (over: Record<string, string | null> = {}) =>
  Object.entries({ ...EXAMPLE, ...over })
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([filename, text]) => ({ filename, file: Buffer.from(text) }));
const input = (over: Record<string, string | null> = {}, extra = {}) => ({ format: "csv" as const, environment: "production", files: files(over), ...extra });

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe("CSV import", () => {
  it("reads the example files into exactly the desired state of the NDJSON example", async () => {
    const csv = await readCsvFiles(files().map((f) => ({ filename: f.filename, file: Readable.from([f.file]) })), 1 << 20);
    const ndjson = await readNdjson(Readable.from([readFileSync("test/fixtures/access/example.ndjson")]), "example.ndjson", 1 << 20);
    const byExt = <T extends { ext: string }>(xs: T[]) => [...xs].sort((a, b) => (a.ext < b.ext ? -1 : 1));
    for (const k of ["principals", "credentials", "apis", "scopes", "endpoints", "grants"] as const) {
      expect(byExt(csv.desired[k] as { ext: string }[]), k).toEqual(byExt(ndjson.desired[k] as { ext: string }[]));
    }
  });

  it("plans, applies, re-imports as a no-op, and marks removed rows as gone with findings", async () => {
    const plan = await planAccessImport(admin, input(), { client });
    expect(plan.source.format).toBe("csv");
    expect(plan.counts.principal.create).toBe(2);
    expect(plan.counts.endpoint.create).toBe(4);
    expect(plan.counts.grant.create).toBe(3);
    expect(plan.risk.publicEndpoints.map((e) => `${e.method} ${e.path}`)).toEqual(["GET /health"]);
    expect(plan.risk.adminKeys.map((k) => k.principal)).toEqual(["Checkout service"]);
    expect(JSON.stringify(plan)).not.toContain(KEY);
    const applied = await applyAccessImport(admin, input({}, { expectedPlanHash: plan.planHash }), { client });
    expect(applied.applied).toBe(true);
    const cred = await client.credential.findFirstOrThrow({ where: { principal: { displayName: "Reporting service" } } });
    expect(cred.hash).toBe(createHash("sha256").update(KEY).digest("hex"));
    expect(cred.expiresAt?.toISOString()).toBe("2027-06-30T00:00:00.000Z");
    const audit = await client.auditEvent.findFirstOrThrow({ where: { action: "inventory.access_import" }, orderBy: { seq: "desc" } });
    expect(JSON.stringify(audit.data)).not.toContain(KEY);

    // The same files in another order are the same source content: a no-op.
    const reordered = { format: "csv" as const, environment: "production", files: files().reverse() };
    expect((await planAccessImport(admin, reordered, { client })).empty).toBe(true);
    expect((await applyAccessImport(admin, input(), { client })).applied).toBe(false);

    const withoutAdmin = EXAMPLE["grants.csv"].split("\n").filter((l) => !l.includes("billing:admin")).join("\n");
    const gone = await applyAccessImport(admin, input({ "grants.csv": withoutAdmin }), { client });
    await expectAdminGrantGone(client, gone);
  });

  it.each([
    ["grants.csv", "principal,api,scope,expiresAt\nnobody,billing,invoices:read,\n", /grants\.csv:2: principal nobody is not defined in these files/],
    ["grants.csv", "principal,api,scope,expiresAt\nsvc-reporting,billing,invoices:read,tomorrow\n", /grants\.csv:2:4: expiresAt: /],
    ["endpoints.csv", "api,method,path,scopes,public,summary\nbilling,GET,/x,,maybe,\n", /endpoints\.csv:2:5: public: /],
    ["principals.csv", "id,name,type,tags\nsvc-a,A,robot,\n", /principals\.csv:2:3: type: /],
    ["credentials.csv", `principal,key,sha256,prefix,expiresAt\nsvc-reporting,${KEY},,,\nsvc-checkout,${KEY},,,\n`, /credentials\.csv:3: this key is given twice \(also on line 2\)/],
    ["principals.csv", "id,name,colour\nsvc-a,A,red\n", /principals\.csv:1:3: unknown column "colour"/],
    ["scopes.csv", "api,name\nbilling,x\n", /scopes\.csv:1: missing column\(s\) level/],
    ["principals.csv", "id,name,type,tags\nsvc-a,A\n", /principals\.csv:2: the row does not have as many cells as the header has columns/],
    ["credentials.csv", `principal,key,sha256,prefix,expiresAt\nsvc-checkout,"${KEY}\n`, /credentials\.csv:\d+(:\d+)?: a quoted cell is never closed/],
    ["people.csv", "id,name\nsvc-a,A\n", /people\.csv: a CSV file's name says its kind/],
  ])("refuses a bad %s naming file, line and column, never quoting a key, and changes nothing", async (name, text, message) => {
    const before = await client.principal.count();
    const credsBefore = await client.credential.count();
    // The bad file replaces its kind's example (or comes in addition, for an unnamed kind).
    const e = await refusal(applyAccessImport(admin, input({ [name]: text }), { client }));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain(KEY);
    expect(await client.principal.count()).toBe(before);
    expect(await client.credential.count()).toBe(credsBefore);
  });

  it("counts lines the way an editor does: a quoted cell over two lines, CRLF, a BOM and blank lines", async () => {
    const text = '\uFEFFid,name,type,tags\r\n\r\nsvc-reporting,"Reporting\r\nservice",,team-data\r\nsvc-checkout,Checkout service,,\r\nsvc-x,X,robot,\r\n';
    const e = await refusal(planAccessImport(admin, input({ "principals.csv": text }), { client }));
    expect(e.message).toMatch(/principals\.csv:6:3: type: /);
  });
});
