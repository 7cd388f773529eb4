import { afterAll, beforeAll, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { makeEnvironment, makeReviewer } from "@/lib/analysis/fixtures";
import { createProxy, deleteProxy, listProxies, updateProxy } from "./proxies";

let tdb: TestDatabase;
let client: PrismaClient;
beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 2);
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

const code = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (e instanceof AppError ? `${e.code}:${e.field ?? ""}` : String(e)));

test("admins configure proxies (validated, audited, token never listed); reviewers cannot", async () => {
  const admin = await makeReviewer(client, ["admin"]);
  const reviewer = await makeReviewer(client, ["reviewer"]);
  const env = await makeEnvironment(client, "production");
  const good = { name: "prod-edge-1", adminUrl: "http://10.0.0.5:8081", adminToken: "t".repeat(24), environmentId: env.id };
  expect(await code(createProxy(reviewer.actor, good, client))).toBe("forbidden:");
  expect(await code(createProxy(admin.actor, { ...good, adminUrl: "ftp://x" }, client))).toBe("bad_request:adminUrl");
  expect(await code(createProxy(admin.actor, { ...good, adminToken: "short" }, client))).toBe("bad_request:adminToken");
  const { id } = await createProxy(admin.actor, good, client);
  expect(await code(createProxy(admin.actor, good, client))).toBe("conflict:");
  const [listed] = await listProxies(admin.actor, client);
  expect(listed).toMatchObject({ name: "prod-edge-1", adminUrl: good.adminUrl, environment: env.name });
  expect(JSON.stringify(listed)).not.toContain(good.adminToken);
  // Updating without a token keeps the stored one.
  await updateProxy(admin.actor, { id, name: "prod-edge-1", adminUrl: "http://10.0.0.6:8081", environmentId: env.id, adminToken: "" }, client);
  expect((await client.proxy.findUniqueOrThrow({ where: { id } })).adminToken).toBe(good.adminToken);
  await deleteProxy(admin.actor, { id }, client);
  expect(await client.proxy.count()).toBe(0);
  const actions = (await client.auditEvent.findMany({ orderBy: { seq: "asc" } })).map((e) => e.action);
  expect(actions).toEqual(["proxy.create", "proxy.update", "proxy.delete"]);
  const created = await client.auditEvent.findFirstOrThrow({ where: { action: "proxy.create" } });
  expect(JSON.stringify(created.data)).not.toContain(good.adminToken);
});
