import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "@/test/support/use-test-database";
import { expectAdminGrantGone } from "@/test/support/access-import";
import { applyAccessImport, planAccessImport } from "./index";
import { formatAccessPlan } from "./format";
import { RISK_LIST_ROWS } from "./plan";

// Tollgate's own NDJSON format (docs/IMPORT.md): the documented example file
// through plan -> apply -> no-op re-import -> removed from source, and bad lines.
const EXAMPLE = readFileSync(path.resolve("test/fixtures/access/example.ndjson"), "utf8");
const admin = systemActor("test");
const ctx = useTestDatabase(4);

beforeAll(async () => {
  await ctx.client.environment.create({ data: { name: "production", tier: "production" } });
});

/** Staging tables left behind (stage.ts): every import drops its own. */
const stagingTables = async () => (await ctx.client.$queryRaw<{ t: string }[]>`SELECT tablename::text AS t FROM pg_tables WHERE schemaname = 'access_import_stage'`).map((r) => r.t);

const input = (text: string, extra = {}) => ({ format: "ndjson" as const, environment: "production", file: Buffer.from(text), filename: "access.ndjson", ...extra });

describe("NDJSON import", () => {
  it("plans, applies, re-imports as a no-op, and marks removed lines as gone with findings", async () => {
    const plan = await planAccessImport(admin, input(EXAMPLE), { client: ctx.client });
    expect(plan.counts.principal.create).toBe(2);
    expect(plan.counts.grant.create).toBe(3);
    expect(plan.risk.publicEndpoints.map((e) => `${e.method} ${e.path}`)).toEqual(["GET /health"]);
    expect(plan.risk.adminKeys.map((k) => k.principal)).toEqual(["Checkout service"]);
    expect(plan.risk.keysWithoutExpiry).toBe(1);
    expect(JSON.stringify(plan)).not.toContain("rep-0f5b1c2d9e8a7b6c");
    const applied = await applyAccessImport(admin, input(EXAMPLE, { expectedPlanHash: plan.planHash }), { client: ctx.client });
    expect(applied.applied).toBe(true);
    const cred = await ctx.client.credential.findFirstOrThrow({ where: { principal: { displayName: "Reporting service" } } });
    expect(cred.hash).toBe(createHash("sha256").update("rep-0f5b1c2d9e8a7b6c").digest("hex"));
    expect(cred.expiresAt?.toISOString()).toBe("2027-06-30T00:00:00.000Z");

    const again = await planAccessImport(admin, input(EXAMPLE), { client: ctx.client });
    expect(again.empty).toBe(true);
    expect((await applyAccessImport(admin, input(EXAMPLE), { client: ctx.client })).applied).toBe(false);

    const without = EXAMPLE.split("\n").filter((l) => !l.includes('"scope":"billing:admin"') || !l.includes('"kind":"grant"')).join("\n");
    const gone = await applyAccessImport(admin, input(without), { client: ctx.client });
    await expectAdminGrantGone(ctx.client, gone);
  });

  it.each([
    ['{"kind":"grant","principal":"nobody","api":"billing","scope":"invoices:read"}', /access\.ndjson:16: principal nobody is not defined in this file/],
    ['{"kind":"credential","principal":"svc-checkout","key":"rep-0f5b1c2d9e8a7b6c"}', /access\.ndjson:16: this key is given twice \(also on line 11\)/],
    ['{"kind":"endpoint","api":"billing","method":"GET","path":"orders"}', /access\.ndjson:16: path: must be a path template/],
    ['{"kind":"principal","id":"x","name":"X","type":"robot"}', /access\.ndjson:16: type: /],
    ["{not json", /access\.ndjson:16: not a JSON object/],
    // Grants are checked in SQL after the last line (stage.ts), with the same messages and lines as the other kinds.
    ['{"kind":"grant","principal":"svc-checkout","api":"billing","scope":"billing:admin"}', /access\.ndjson:16: grant of billing:admin \(api billing\) to svc-checkout is given twice \(also on line \d+\)/],
    ['{"kind":"grant","principal":"svc-checkout","api":"billing","scope":"nope|x"}', /access\.ndjson:16: scope nope\|x of api billing is not defined in this file/],
    ['{"kind":"grant","principal":"svc-checkout","api":"billing","scope":"invoices:read","expiresAt":"2027-02-29T00:00:00Z"}', /access\.ndjson:16: expiresAt: /],
    ['{"kind":"grant","principal":"svc-checkout","api":"billing","scope":"invoices:read","why":"x"}', /access\.ndjson:16: Unrecognized key/],
  ])("refuses %s naming the line, and changes nothing", async (line, message) => {
    const before = await ctx.client.principal.count();
    const e = await applyAccessImport(admin, input(`${EXAMPLE}${line}\n`), { client: ctx.client }).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).message).toMatch(message);
    expect((e as AppError).message).not.toContain("rep-0f5b1c2d9e8a7b6c");
    expect(await ctx.client.principal.count()).toBe(before);
    expect(await stagingTables()).toEqual([]);
  });

  it("reports the earliest undefined reference in the file, whether on a grant or on another kind", async () => {
    const grantFirst = `{"kind":"grant","principal":"ghost","api":"billing","scope":"invoices:read"}\n${EXAMPLE}{"kind":"credential","principal":"nobody","key":"k-1"}\n`;
    await expect(planAccessImport(admin, input(grantFirst), { client: ctx.client })).rejects.toThrow(/access\.ndjson:1: principal ghost is not defined/);
    const credentialFirst = `{"kind":"credential","principal":"nobody","key":"k-1"}\n${EXAMPLE}{"kind":"grant","principal":"ghost","api":"billing","scope":"invoices:read"}\n`;
    await expect(planAccessImport(admin, input(credentialFirst), { client: ctx.client })).rejects.toThrow(/access\.ndjson:1: principal nobody is not defined/);
    expect(await stagingTables()).toEqual([]);
  });

  it("a grant revoked in Tollgate stays revoked when the file still has it, is listed as a conflict, and comes back after a removal still revoked", async () => {
    const db = ctx.client;
    const source = "ndjson-production"; // the example's keys belong to this source (another one would be refused)
    await applyAccessImport(admin, input(EXAMPLE), { client: db });
    const mapped = await db.importedObject.findFirstOrThrow({ where: { source: { name: source }, kind: "grant", externalKey: { contains: "billing:admin" } } });
    await db.grant.update({ where: { id: mapped.objectId }, data: { status: "revoked" } });
    const plan = await planAccessImport(admin, input(EXAMPLE), { client: db });
    expect(plan.empty).toBe(true);
    expect(plan.conflicts.map((c) => c.message)).toEqual([expect.stringMatching(/^grant Checkout service -> .*billing:admin is revoked in Tollgate but still in the source: left revoked$/)]);
    // Removed from the file, then back: an update ("back in source") that leaves it revoked.
    const without = EXAMPLE.split("\n").filter((l) => !l.includes('"scope":"billing:admin"') || !l.includes('"kind":"grant"')).join("\n");
    await applyAccessImport(admin, input(without), { client: db });
    expect((await db.importedObject.findFirstOrThrow({ where: { source: { name: source }, externalKey: mapped.externalKey } })).goneAt).not.toBeNull();
    const back = await applyAccessImport(admin, input(EXAMPLE), { client: db });
    expect(back.counts.grant).toEqual({ create: 0, update: 1, gone: 0, unchanged: 2 });
    expect(back.samples.grant.update.map((u) => u.fields)).toEqual([["back in source"]]);
    expect(back.conflicts).toHaveLength(1);
    expect((await db.grant.findUniqueOrThrow({ where: { id: mapped.objectId } })).status).toBe("revoked");
    expect(await stagingTables()).toEqual([]);
  });

  it("streams a file line by line: chunks cut mid-line, mid-character and mid-CRLF give the same plan as the bytes", async () => {
    const text = EXAMPLE.replace("Reporting service", "Reporting service — été").replace(/\n/g, "\r\n");
    const bytes = Buffer.from(text);
    const whole = await planAccessImport(admin, input(text), { client: ctx.client });
    // 7-byte chunks: a two-byte "é" and a "\r\n" fall across chunk boundaries somewhere.
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
    }
    const streamed = await planAccessImport(admin, { ...input(""), file: Readable.from(chunks()) }, { client: ctx.client });
    expect(streamed).toEqual(whole);
    expect(streamed.counts.principal.update).toBe(1); // the renamed principal, read correctly across chunks
  });

  it("stops reading at a bad line and at the size limit: the rest of the stream is never read", async () => {
    let pulled = 0;
    async function* endless(first: string, filler: string) {
      yield Buffer.from(first);
      for (;;) {
        pulled++;
        yield Buffer.from(filler);
      }
    }
    const before = await ctx.client.principal.count();
    const bad = await planAccessImport(admin, { ...input(""), file: Readable.from(endless(`${EXAMPLE}{not json\n`, '{"kind":"principal","id":"p","name":"P"}\n')) }, { client: ctx.client }).then(
      () => null,
      (x: unknown) => x,
    );
    expect((bad as AppError).message).toMatch(/access\.ndjson:16: not a JSON object/);
    expect(pulled).toBeLessThan(1_000); // an endless stream: only what the reader buffered ahead was pulled

    pulled = 0;
    const big = await applyAccessImport(admin, { ...input(""), file: Readable.from(endless(EXAMPLE, "\n".repeat(1024))) }, { client: ctx.client, maxBytes: 64 * 1024 }).then(
      () => null,
      (x: unknown) => x,
    );
    expect(big).toBeInstanceOf(AppError);
    expect((big as AppError).status).toBe(400);
    expect((big as AppError).message).toMatch(/access\.ndjson: over the limit of 65536 bytes .*nothing was imported/);
    expect(pulled).toBeLessThan(1_000);
    expect(await ctx.client.principal.count()).toBe(before);
  });
  it("counts every key reaching an admin scope but lists only the first RISK_LIST_ROWS, in file order", async () => {
    const n = 2 * RISK_LIST_ROWS + 50;
    const lines = [
      `{"kind":"api","id":"risk","name":"Risk API","baseUrl":"https://risk.internal.example"}`,
      `{"kind":"scope","api":"risk","name":"risk:admin","level":"admin"}`,
      `{"kind":"scope","api":"risk","name":"risk:read","level":"read"}`,
    ];
    for (let i = 0; i < n; i++) {
      lines.push(`{"kind":"principal","id":"risk-${i}","name":"Risk ${i}","type":"service_account"}`);
      lines.push(`{"kind":"credential","principal":"risk-${i}","sha256":"${createHash("sha256").update(`risk-${i}`).digest("hex")}","prefix":"rk_${i}"}`);
      // Every other principal holds the admin scope; the rest read only.
      lines.push(`{"kind":"grant","principal":"risk-${i}","api":"risk","scope":"${i % 2 ? "risk:read" : "risk:admin"}"}`);
    }
    const plan = await planAccessImport(admin, input(lines.join("\n"), { source: "risk-list" }), { client: ctx.client });
    const admins = Math.ceil(n / 2);
    expect(plan.risk.adminKeyCount).toBe(admins);
    expect(admins).toBeGreaterThan(RISK_LIST_ROWS);
    expect(plan.risk.adminKeys).toHaveLength(RISK_LIST_ROWS);
    expect(plan.risk.adminKeys[0]).toEqual({ principal: "Risk 0", credential: "rk_0", scopes: ["Risk API: risk:admin"] });
    expect(plan.risk.adminKeys[1].credential).toBe("rk_2");
    expect(formatAccessPlan(plan)).toContain(`keys reaching admin-level scopes: ${admins}`);
  });
});
