import { beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { useTestDatabase } from "@/test/support/use-test-database";
import { grantIdPrefix, grantIdSql } from "./grant-plan";
import { applyAccessImport } from "./index";

// The ids of the grants an import creates (grant-plan.ts): time-ordered UUIDv7s, increasing within one import in
// (principal, scope) order, so the import writes every index of Grant near one spot instead of at random pages.
const ctx = useTestDatabase(2);
const admin = systemActor("test");
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The Unix milliseconds of a UUIDv7. */
const msOf = (id: string) => parseInt(id.replace(/-/g, "").slice(0, 12), 16);

beforeAll(async () => {
  await ctx.client.environment.create({ data: { name: "production", tier: "production" } });
});

describe("grant ids", () => {
  it("are valid UUIDv7s with the import's time, strictly increasing with the counter up to 2^32 - 1", async () => {
    const at = new Date("2026-12-06T10:00:00.123Z");
    const ns = [...Array.from({ length: 5000 }, (_, i) => i), 2 ** 20 - 1, 2 ** 20, 2 ** 20 + 1, 2 ** 26, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1];
    const rows = await ctx.client.$queryRawUnsafe<{ id: string; n: bigint; before: boolean | null }[]>(
      `SELECT id::text AS id, n, lag(id) OVER (ORDER BY n) < id AS before
       FROM (SELECT n, ${grantIdSql("$1::text", "n")} AS id FROM unnest($2::bigint[]) AS n) x ORDER BY n`,
      grantIdPrefix(at),
      ns,
    );
    expect(rows.map((r) => Number(r.n))).toEqual(ns);
    for (const r of rows) {
      expect(r.id).toMatch(V7);
      expect(msOf(r.id)).toBe(at.getTime());
    }
    // Postgres orders uuids by their bytes, as the strings order here.
    expect(rows.slice(1).every((r) => r.before === true)).toBe(true);
    expect(rows.slice(1).every((r, i) => r.id > rows[i].id)).toBe(true);
    // The random tail: the same counter in the same millisecond (two imports at once) gives another id.
    const [again] = await ctx.client.$queryRawUnsafe<{ id: string }[]>(`SELECT ${grantIdSql("$1::text", "0::bigint")}::text AS id`, grantIdPrefix(at));
    expect(again.id).not.toBe(rows[0].id);
    expect(again.id.slice(0, 20)).toBe(rows[0].id.slice(0, 20));
  });

  it("an import creates its grants with increasing ids in (principal, scope) order, mapped and after earlier imports'", async () => {
    const lines = (principals: number[], scopes: number) => [
      { kind: "api", id: "ids-api", name: "Ids API", baseUrl: "http://ids.internal" },
      ...Array.from({ length: scopes }, (_, s) => ({ kind: "scope", api: "ids-api", name: `s${s}`, level: "read" })),
      ...principals.map((p) => ({ kind: "principal", id: `ids-p${p}`, name: `Ids principal ${p}` })),
      // Not in (principal, scope) order in the file: the ids follow the target's order, not the file's.
      ...principals.flatMap((p) => Array.from({ length: scopes }, (_, s) => ({ kind: "grant", principal: `ids-p${p}`, api: "ids-api", scope: `s${(s * 3 + p) % scopes}` }))).reverse(),
    ];
    const input = (rows: unknown[]) => ({ format: "ndjson" as const, environment: "production", file: Buffer.from(rows.map((r) => JSON.stringify(r)).join("\n")), filename: "ids.ndjson", source: "ids" });
    const grants = () =>
      ctx.client.$queryRaw<{ id: string; principalId: string; scopeId: string; mapped: string | null }[]>`
        SELECT g.id::text AS id, g."principalId"::text AS "principalId", g."scopeId"::text AS "scopeId", o."externalKey" AS mapped
        FROM "Grant" g LEFT JOIN "ImportedObject" o ON o.kind = 'grant' AND o."objectId" = g.id
        JOIN "Principal" p ON p.id = g."principalId" WHERE p."displayName" LIKE 'Ids principal %'
        ORDER BY g."principalId", g."scopeId"`;

    const t0 = Date.now();
    const first = await applyAccessImport(admin, input(lines([0, 1, 2, 3, 4, 5], 7)), { client: ctx.client });
    const t1 = Date.now();
    expect(first.written.grant.created).toBe(42);
    const rows = await grants();
    expect(rows).toHaveLength(42);
    for (const r of rows) {
      expect(r.id).toMatch(V7);
      expect(msOf(r.id)).toBeGreaterThanOrEqual(t0);
      expect(msOf(r.id)).toBeLessThanOrEqual(t1);
      expect(r.mapped).not.toBeNull();
    }
    expect(rows.slice(1).every((r, i) => r.id > rows[i].id)).toBe(true);
    expect(new Set(rows.map((r) => msOf(r.id))).size).toBe(1);

    await new Promise((r) => setTimeout(r, 5));
    const second = await applyAccessImport(admin, input(lines([0, 1, 2, 3, 4, 5, 6, 7], 7)), { client: ctx.client });
    expect(second.written.grant.created).toBe(14);
    const after = await grants();
    const old = new Set(rows.map((r) => r.id));
    const added = after.filter((r) => !old.has(r.id));
    expect(added).toHaveLength(14);
    expect(after.filter((r) => old.has(r.id))).toEqual(rows);
    const newest = rows.map((r) => r.id).sort().at(-1)!;
    for (const r of added) {
      expect(r.id > newest).toBe(true);
      expect(r.mapped).not.toBeNull();
    }
    expect(added.slice(1).every((r, i) => r.id > added[i].id)).toBe(true);
  });
});
