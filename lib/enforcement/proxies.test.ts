import { expect, test } from "vitest";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "@/test/support/use-test-database";
import { makeEnvironment, makeReviewer } from "@/lib/analysis/fixtures";
import { createProxy, deleteProxy, listProxies, updateProxy } from "./proxies";

const ctx = useTestDatabase();

const code = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (e instanceof AppError ? `${e.code}:${e.field ?? ""}` : String(e)));

test("admins configure proxies (validated, audited, token never listed); reviewers cannot", async () => {
  const admin = await makeReviewer(ctx.client, ["admin"]);
  const reviewer = await makeReviewer(ctx.client, ["reviewer"]);
  const env = await makeEnvironment(ctx.client, "production");
  const good = { name: "prod-edge-1", adminUrl: "http://10.0.0.5:8081", adminToken: "t".repeat(24), environmentId: env.id };
  expect(await code(createProxy(reviewer.actor, good, ctx.client))).toBe("forbidden:");
  expect(await code(createProxy(admin.actor, { ...good, adminUrl: "ftp://x" }, ctx.client))).toBe("bad_request:adminUrl");
  expect(await code(createProxy(admin.actor, { ...good, adminToken: "short" }, ctx.client))).toBe("bad_request:adminToken");
  const { id } = await createProxy(admin.actor, good, ctx.client);
  expect(await code(createProxy(admin.actor, good, ctx.client))).toBe("conflict:");
  const [listed] = await listProxies(admin.actor, ctx.client);
  expect(listed).toMatchObject({ name: "prod-edge-1", adminUrl: good.adminUrl, environment: env.name });
  expect(JSON.stringify(listed)).not.toContain(good.adminToken);
  // Updating without a token keeps the stored one.
  await updateProxy(admin.actor, { id, name: "prod-edge-1", adminUrl: "http://10.0.0.6:8081", environmentId: env.id, adminToken: "" }, ctx.client);
  expect((await ctx.client.proxy.findUniqueOrThrow({ where: { id } })).adminToken).toBe(good.adminToken);
  await deleteProxy(admin.actor, { id }, ctx.client);
  expect(await ctx.client.proxy.count()).toBe(0);
  const actions = (await ctx.client.auditEvent.findMany({ orderBy: { seq: "asc" } })).map((e) => e.action);
  expect(actions).toEqual(["proxy.create", "proxy.update", "proxy.delete"]);
  const created = await ctx.client.auditEvent.findFirstOrThrow({ where: { action: "proxy.create" } });
  expect(JSON.stringify(created.data)).not.toContain(good.adminToken);
});
