import { beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "@/test/support/use-test-database";
import { applyAccessImport, planAccessImport } from "./index";
import { KeyHashes } from "./stage";

// The grant plan (grant-plan.ts): counts and digest come from one aggregate over
// the FULL JOIN, and only the rows the plan lists or the apply writes go into the
// diff table. These tests pin what that must keep: every action counted and
// written, samples and conflicts from the table, and a plan hash that follows the
// data (not the order of the file's lines).

const admin = systemActor("test");
const ctx = useTestDatabase(4);

beforeAll(async () => {
  await ctx.client.environment.create({ data: { name: "production", tier: "production" } });
});

const HEAD = [
  '{"kind":"api","id":"orders","name":"Orders API","baseUrl":"https://orders.internal"}',
  '{"kind":"scope","api":"orders","name":"read","level":"read"}',
  '{"kind":"scope","api":"orders","name":"write","level":"write"}',
  '{"kind":"scope","api":"orders","name":"admin","level":"admin"}',
  ...["a", "b", "c", "d", "e"].map((p) => `{"kind":"principal","id":"svc-${p}","name":"Service ${p.toUpperCase()}"}`),
];
const grant = (p: string, scope: string, expiresAt?: string) =>
  JSON.stringify({ kind: "grant", principal: `svc-${p}`, api: "orders", scope, ...(expiresAt ? { expiresAt } : {}) });
const file = (grants: string[]) => [...HEAD, ...grants].join("\n") + "\n";
const input = (text: string, extra = {}) => ({ format: "ndjson" as const, environment: "production", source: "grant-plan", file: Buffer.from(text), filename: "g.ndjson", ...extra });
const mappedGrant = (principal: string, scope: string) =>
  ctx.client.importedObject.findFirstOrThrow({ where: { source: { name: "grant-plan" }, kind: "grant", externalKey: `principal:svc-${principal}|api:orders|${scope}` } });

describe("grant plan", () => {
  const BASE = [grant("a", "read"), grant("b", "write", "2027-01-31T00:00:00Z"), grant("c", "read"), grant("e", "admin")];

  it("keeps the plan hash of an unchanged source whatever the order of its grant lines, and changes it with the data", async () => {
    await applyAccessImport(admin, input(file(BASE)), { client: ctx.client });
    const again = await planAccessImport(admin, input(file(BASE)), { client: ctx.client });
    expect(again.empty).toBe(true);
    expect(again.counts.grant).toEqual({ create: 0, update: 0, gone: 0, unchanged: 4 });
    const reordered = await planAccessImport(admin, input(file([...BASE].reverse())), { client: ctx.client });
    expect(reordered.empty).toBe(true);
    expect(reordered.planHash).toBe(again.planHash);
    expect((await planAccessImport(admin, input(file(BASE)), { client: ctx.client })).planHash).toBe(again.planHash);

    // A change in Tollgate to a grant the file keeps as it is: a different hash, so the reviewed plan is stale (409).
    const b = await mappedGrant("b", "write");
    await ctx.client.grant.update({ where: { id: b.objectId }, data: { expiresAt: new Date("2027-03-31T00:00:00Z") } });
    const changed = await planAccessImport(admin, input(file(BASE)), { client: ctx.client });
    expect(changed.planHash).not.toBe(again.planHash);
    expect(changed.counts.grant).toEqual({ create: 0, update: 1, gone: 0, unchanged: 3 });
    const stale = await applyAccessImport(admin, input(file(BASE), { expectedPlanHash: again.planHash }), { client: ctx.client }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(AppError);
    expect((stale as AppError).status).toBe(409);
    // Applied as reviewed, the file's expiry is back.
    const applied = await applyAccessImport(admin, input(file(BASE), { expectedPlanHash: changed.planHash }), { client: ctx.client });
    expect(applied.applied).toBe(true);
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: b.objectId } })).expiresAt?.toISOString()).toBe("2027-01-31T00:00:00.000Z");
    expect((await planAccessImport(admin, input(file(BASE)), { client: ctx.client })).planHash).toBe(again.planHash);
  });

  it("counts, lists and writes every action of one plan: create, update, gone, and a revoked grant left as a conflict", async () => {
    const a = await mappedGrant("a", "read");
    await ctx.client.grant.update({ where: { id: a.objectId }, data: { status: "revoked" } });
    // b: new expiry in the file; c: gone from it; d: new; e: unchanged; a: unchanged but revoked in Tollgate.
    const next = [grant("a", "read"), grant("b", "write", "2027-12-31T00:00:00Z"), grant("d", "write"), grant("e", "admin")];
    const plan = await planAccessImport(admin, input(file(next)), { client: ctx.client });
    expect(plan.counts.grant).toEqual({ create: 1, update: 1, gone: 1, unchanged: 2 });
    expect(plan.samples.grant.create.map((c) => c.label)).toEqual(["Service D -> Orders API: write"]);
    expect(plan.samples.grant.update.map((u) => [u.label, u.fields])).toEqual([["Service B -> Orders API: write", ["expiresAt"]]]);
    expect(plan.samples.grant.gone.map((g) => g.ext)).toEqual(["principal:svc-c|api:orders|read"]);
    expect(plan.conflicts.map((c) => c.message)).toEqual(["grant Service A -> Orders API: read is revoked in Tollgate but still in the source: left revoked"]);
    expect(plan.risk.adminKeys).toEqual([]);

    const applied = await applyAccessImport(admin, input(file(next), { expectedPlanHash: plan.planHash }), { client: ctx.client });
    expect(applied.written.grant).toEqual({ created: 1, updated: 1, gone: 1 });
    const d = await mappedGrant("d", "write");
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: d.objectId } })).status).toBe("active");
    expect((await mappedGrant("c", "read")).goneAt).not.toBeNull();
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: a.objectId } })).status).toBe("revoked");

    const after = await planAccessImport(admin, input(file(next)), { client: ctx.client });
    expect(after.empty).toBe(true);
    expect(after.counts.grant).toEqual({ create: 0, update: 0, gone: 0, unchanged: 4 });
    expect(after.conflicts).toHaveLength(1);
  });
});

describe("KeyHashes (the stage's duplicate pre-check)", () => {
  it("finds equal keys among many, and none among distinct ones", () => {
    const distinct = new KeyHashes();
    for (let p = 0; p < 2000; p++) for (let s = 0; s < 50; s++) distinct.add(`principal:p-${p}`, `api:a|scope-${s}`);
    expect(distinct.anyEqual()).toBe(false);
    const twice = new KeyHashes();
    for (let p = 0; p < 2000; p++) twice.add(`principal:p-${p}`, "api:a|read");
    twice.add("principal:p-1234", "api:a|read");
    expect(twice.anyEqual()).toBe(true);
    // The key is principal "|" scope: the same key split differently is the same key (as in SQL: principal_ext || '|' || scope_ext).
    const split = new KeyHashes();
    split.add("principal:a|b", "api:c|d");
    split.add("principal:a", "b|api:c|d");
    expect(split.anyEqual()).toBe(true);
  });
});
