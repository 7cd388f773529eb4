import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor } from "@/lib/auth/actor";
import { applyImport, planImport } from "@/lib/discovery";

// Issue 17, point 5: a 50,000-operation document imported, then re-imported with
// thousands of changes, removals and relinks. Every set operation of the import
// used to bind one parameter per row, and Postgres allows 32,767 per statement,
// so the first re-import of such an API failed with P2029.

const OPERATIONS = 50_000;
const METHODS = ["get", "put", "post", "delete"] as const;
const SCOPES = ["items:read", "items:write", "items:admin", "reports:read", "legacy:export"];

/** An OpenAPI 3.0 document with `paths` path items of four operations each, some dropped, some relinked to another scope. */
function bigDocument(opts: { paths: number; drop?: (i: number) => boolean; relink?: (i: number) => boolean; extra?: number }): string {
  const paths: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < opts.paths; i++) {
    if (opts.drop?.(i)) continue;
    const item: Record<string, unknown> = {};
    for (const m of METHODS) {
      const op: Record<string, unknown> = { responses: { 200: { $ref: "#/components/responses/ok" } } };
      const scope = m === "get" ? (i % 2 ? "items:read" : "reports:read") : i % 50 === 0 ? "items:admin" : "items:write";
      const relinked = opts.relink?.(i) ?? false;
      // The document-level security is items:read; others are per operation.
      if (scope !== "items:read" || relinked) op.security = [{ oauth: relinked ? ["legacy:export"] : [scope] }];
      item[m] = op;
    }
    paths[`/r${i}/{id}`] = item;
  }
  for (let j = 0; j < (opts.extra ?? 0); j++) paths[`/new${j}`] = { get: { responses: { 200: { $ref: "#/components/responses/ok" } } } };
  return JSON.stringify({
    openapi: "3.0.3",
    info: { title: "Big", version: "1" },
    servers: [{ url: "https://big.example" }],
    components: {
      responses: { ok: { description: "ok" } },
      securitySchemes: {
        oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://id.example/t", scopes: Object.fromEntries(SCOPES.map((s) => [s, s])) } } },
      },
    },
    security: [{ oauth: ["items:read"] }],
    paths,
  });
}

let tdb: TestDatabase;
let client: PrismaClient;
const admin = systemActor("test");
const input = (document: string) => ({ apiName: "big", environment: "production", document });
/** Durations go to the log for the report (docs/BENCHMARKS.md); nothing here asserts on time. */
async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const r = await f();
  console.log(`[large import] ${label}: ${Math.round(performance.now() - t)} ms`);
  return r;
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  const env = await client.environment.create({ data: { name: "production", tier: "production" } });
  await client.proxy.create({ data: { name: "prod-1", adminUrl: "http://127.0.0.1:1", adminToken: "x".repeat(32), environmentId: env.id } });
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

describe("a 50,000-operation document", () => {
  const PATHS = OPERATIONS / METHODS.length;
  // Each step is over 32,767 rows of one kind, the bind-parameter limit of one Postgres statement.
  it("imports, re-imports with 37,500 relinks, then with 37,500 removals, then back", { timeout: 1_200_000 }, async () => {
    const first = bigDocument({ paths: PATHS });
    expect(Buffer.byteLength(first)).toBeLessThan(5 * 1024 * 1024); // under the default size limit
    const r1 = await timed("first import (50,000 added)", () => applyImport(admin, input(first), { client }));
    expect(r1.document.operations).toBe(OPERATIONS);
    const apiId = r1.api.id!;
    expect(await client.endpoint.count({ where: { apiId } })).toBe(OPERATIONS);
    expect(await client.endpointScope.count({ where: { endpoint: { apiId } } })).toBe(OPERATIONS);
    const outbox1 = await client.outboxItem.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect((outbox1.payload as { ops: unknown[] }).ops).toHaveLength(OPERATIONS + 1);

    // A person holds items:admin, so endpoints removed that need it are kept as deprecated.
    const env = await client.environment.findUniqueOrThrow({ where: { name: "production" } });
    const person = await client.principal.create({ data: { kind: "user", displayName: "Holder" } });
    const held = await client.scope.findFirstOrThrow({ where: { apiId, name: "items:admin" } });
    await client.grant.create({ data: { principalId: person.id, scopeId: held.id, environmentId: env.id } });

    // Drop every 4th path item (12,500 operations), relink all the others (37,500), add 5,000.
    const second = bigDocument({ paths: PATHS, drop: (i) => i % 4 === 0, relink: () => true, extra: 5000 });
    const plan = await planImport(admin, input(second), { client });
    const removed = plan.diff.endpoints.removed;
    expect(removed).toHaveLength(OPERATIONS / 4);
    // Paths i = 0, 100, 200, … (i % 50 === 0 and i % 4 === 0) have 3 operations needing the held scope.
    const deprecatedCount = 3 * Math.ceil(PATHS / 100);
    expect(removed.filter((r) => r.action === "deprecate")).toHaveLength(deprecatedCount);
    expect(plan.diff.endpoints.changed).toHaveLength((OPERATIONS * 3) / 4);
    expect(plan.diff.endpoints.added).toHaveLength(5000);

    const r2 = await timed("re-import (12,500 removed, 37,500 relinked, 5,000 added)", () => applyImport(admin, { ...input(second), expectedPlanHash: plan.planHash }, { client }));
    expect(r2.diff.endpoints.removed).toHaveLength(OPERATIONS / 4);
    expect(await client.endpoint.count({ where: { apiId } })).toBe((OPERATIONS * 3) / 4 + 5000 + deprecatedCount);
    expect(await client.endpoint.count({ where: { apiId, deprecatedAt: { not: null } } })).toBe(deprecatedCount);
    const legacy = await client.scope.findFirstOrThrow({ where: { apiId, name: "legacy:export" } });
    expect(await client.endpointScope.count({ where: { scopeId: legacy.id } })).toBe((OPERATIONS * 3) / 4);
    expect((await planImport(admin, input(second), { client })).empty).toBe(true);

    // Down to one path item: 42,500 endpoints go (the deprecated ones stay, their scope is held).
    const tiny = bigDocument({ paths: 1 });
    const r3 = await timed("re-import down to 4 operations (42,500 deleted)", () => applyImport(admin, input(tiny), { client }));
    expect(r3.diff.endpoints.removed.filter((r) => r.action === "delete").length).toBeGreaterThan(32_767);
    expect(await client.endpoint.count({ where: { apiId } })).toBe(METHODS.length + deprecatedCount - 3); // path 0's three are live again

    // And back to the full document.
    const back = await timed("re-import back to 50,000 (49,628 added)", () => applyImport(admin, input(first), { client }));
    expect(back.diff.endpoints.added.length).toBeGreaterThan(32_767);
    expect(await client.endpoint.count({ where: { apiId } })).toBe(OPERATIONS);
    expect(await client.endpoint.count({ where: { apiId, deprecatedAt: { not: null } } })).toBe(0);
    expect(await client.endpointScope.count({ where: { endpoint: { apiId } } })).toBe(OPERATIONS);
  });
});
