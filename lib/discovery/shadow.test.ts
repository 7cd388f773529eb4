import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { addShadowToInventory, dismissShadowEndpoint, listShadowEndpoints } from "@/lib/discovery";

let tdb: TestDatabase;
let client: PrismaClient;
const admin = systemActor("test");
const auditor: Actor = { kind: "user", userId: "00000000-0000-4000-8000-000000000009", email: "a@x", name: "a", roles: ["auditor"], principalId: null };
let shadowId: string;
let otherId: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 2);
  const env = await client.environment.create({ data: { name: "production", tier: "production" } });
  await client.proxy.create({ data: { name: "p1", adminUrl: "http://127.0.0.1:1", adminToken: "x".repeat(32), environmentId: env.id } });
  const api = await client.api.create({ data: { name: "Orders API", baseUrl: "https://orders.example", environmentId: env.id } });
  shadowId = (await client.shadowEndpoint.create({ data: { environmentId: env.id, apiId: api.id, method: "DELETE", path: "/orders-api/orders/{param}/items", requestCount: 12n, distinctKeys: 3 } })).id;
  otherId = (await client.shadowEndpoint.create({ data: { environmentId: env.id, apiId: null, method: "GET", path: "/.env", requestCount: 40n, distinctKeys: 1 } })).id;
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

describe("shadow endpoints", () => {
  it("lists what the proxies reported, grouped by API", async () => {
    const rows = await listShadowEndpoints(auditor, {}, client);
    expect(rows.map((r) => [r.apiName, r.method, r.path, r.requestCount])).toEqual([
      ["Orders API", "DELETE", "/orders-api/orders/{param}/items", 12],
      [null, "GET", "/.env", 40],
    ]);
  });

  it("adds one to the inventory with a required scope, queues the route for the proxy, and closes it", async () => {
    await expect(addShadowToInventory(auditor, { id: shadowId }, client)).rejects.toMatchObject({ status: 403 });
    const r = await addShadowToInventory(admin, { id: shadowId }, client);
    expect(r.pathTemplate).toBe("/orders/{param}/items");
    expect(r.scopeName).toBe("orders:write");
    const endpoint = await client.endpoint.findUniqueOrThrow({ where: { id: r.endpointId }, include: { scopes: { include: { scope: true } } } });
    expect(endpoint.scopes.map((s) => [s.scope.name, s.scope.level])).toEqual([["orders:write", "write"]]);
    const outbox = await client.outboxItem.findFirstOrThrow();
    const ops = (outbox.payload as { ops: { kind: string; value: { pathTemplate?: string; prefix?: string } }[] }).ops;
    expect(ops.find((o) => o.kind === "api")?.value.prefix).toBe("/orders-api");
    expect(ops.find((o) => o.kind === "route")?.value.pathTemplate).toBe("/orders/{param}/items");
    expect(await listShadowEndpoints(auditor, {}, client)).toHaveLength(1);
    await expect(addShadowToInventory(admin, { id: shadowId }, client)).rejects.toMatchObject({ status: 409 });
  });

  it("drops the API prefix even when the proxy folded it into {param}", async () => {
    const api = await client.api.findFirstOrThrow({ where: { name: "Orders API" } });
    const row = await client.shadowEndpoint.create({ data: { environmentId: api.environmentId, apiId: api.id, method: "GET", path: "/{param}/refunds/{param}", requestCount: 1n, distinctKeys: 1 } });
    const r = await addShadowToInventory(admin, { id: row.id, scopeName: "refunds:read" }, client);
    expect(r.pathTemplate).toBe("/refunds/{param}");
    expect(r.scopeName).toBe("refunds:read");
  });

  it("dismisses with a reason (audited) and refuses one without", async () => {
    await expect(dismissShadowEndpoint(admin, { id: otherId, reason: "" }, client)).rejects.toMatchObject({ status: 400 });
    await dismissShadowEndpoint(admin, { id: otherId, reason: "scanner noise" }, client);
    expect(await listShadowEndpoints(auditor, {}, client)).toHaveLength(0);
    expect(await client.auditEvent.count({ where: { action: "discovery.shadow_dismiss" } })).toBe(1);
  });
});
