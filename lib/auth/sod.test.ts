import { afterAll, beforeAll, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import {
  assertNotSelfReview,
  DEFAULT_TWO_PERSON_RULE,
  loadTwoPersonRule,
  requiresSecondReviewer,
  updateTwoPersonRule,
} from "./sod";
import type { Actor } from "./actor";

let tdb: TestDatabase;
let client: PrismaClient;
let ids: { own: string; owned: string; other: string; reviewerPrincipal: string };

const reviewer = (principalId: string | null): Extract<Actor, { kind: "user" }> => ({
  kind: "user",
  userId: "00000000-0000-4000-8000-000000000001",
  email: "rita@example.test",
  name: "Rita",
  roles: ["reviewer"],
  principalId,
});

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 2);
  const env = await client.environment.create({ data: { name: "prod", tier: "production" } });
  const api = await client.api.create({ data: { name: "orders", baseUrl: "http://orders", environmentId: env.id } });
  const scope = await client.scope.create({ data: { apiId: api.id, name: "orders:admin", level: "admin" } });
  const rita = await client.principal.create({ data: { kind: "user", displayName: "Rita", email: "rita@example.test" } });
  const bot = await client.principal.create({ data: { kind: "service_account", displayName: "rita-bot", managerId: rita.id } });
  const bob = await client.principal.create({ data: { kind: "user", displayName: "Bob" } });
  const grant = (principalId: string) => client.grant.create({ data: { principalId, scopeId: scope.id, environmentId: env.id } });
  ids = { own: (await grant(rita.id)).id, owned: (await grant(bot.id)).id, other: (await grant(bob.id)).id, reviewerPrincipal: rita.id };
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

test("a reviewer may not decide on a grant they hold", async () => {
  await expect(assertNotSelfReview(client, reviewer(ids.reviewerPrincipal), ids.own)).rejects.toMatchObject({ status: 403, message: /grant you hold/ });
});

test("a reviewer may not decide on a grant of a service account they own", async () => {
  await expect(assertNotSelfReview(client, reviewer(ids.reviewerPrincipal), ids.owned)).rejects.toMatchObject({ status: 403, message: /credential you own/ });
});

test("someone else's grant is fine; an unknown grant is a 404", async () => {
  await expect(assertNotSelfReview(client, reviewer(ids.reviewerPrincipal), ids.other)).resolves.toBeUndefined();
  await expect(assertNotSelfReview(client, reviewer(ids.reviewerPrincipal), "00000000-0000-4000-8000-00000000dead")).rejects.toMatchObject({ status: 404 });
});

test("two-person rule: admin scopes in production by default, configurable by tier or environment name", () => {
  const g = (level: string, tier: string, name = tier) => ({ scope: { level }, environment: { tier, name } });
  expect(requiresSecondReviewer(g("admin", "production"))).toBe(true);
  expect(requiresSecondReviewer(g("write", "production"))).toBe(false);
  expect(requiresSecondReviewer(g("admin", "staging"))).toBe(false);
  const rule = { enabled: true, levels: ["admin", "write"] as ("admin" | "write")[], environments: ["payments-staging"] };
  expect(requiresSecondReviewer(g("write", "staging", "payments-staging"), rule)).toBe(true);
  expect(requiresSecondReviewer(g("admin", "production"), rule)).toBe(false);
  expect(requiresSecondReviewer(g("admin", "production"), { ...DEFAULT_TWO_PERSON_RULE, enabled: false })).toBe(false);
});

test("the rule is a Setting only admins change, validated and audited; a corrupt row falls back to the default", async () => {
  expect(await loadTwoPersonRule(client)).toEqual(DEFAULT_TWO_PERSON_RULE);
  const admin: Actor = { ...reviewer(null), roles: ["admin"] };
  await expect(updateTwoPersonRule(reviewer(null), { enabled: false, levels: [], environments: [] }, client)).rejects.toMatchObject({ status: 403 });
  await expect(updateTwoPersonRule(admin, { enabled: true, levels: ["root"], environments: [] }, client)).rejects.toMatchObject({ status: 400, field: "levels.0" });
  const next = { enabled: true, levels: ["admin", "write"], environments: ["production", "staging"] };
  await updateTwoPersonRule(admin, next, client);
  expect(await loadTwoPersonRule(client)).toEqual(next);
  const ev = await client.auditEvent.findFirstOrThrow({ where: { target: "settings:twoPersonRule" } });
  expect(ev.data).toEqual({ from: DEFAULT_TWO_PERSON_RULE, to: next });
  await client.setting.update({ where: { key: "twoPersonRule" }, data: { value: { enabled: "maybe" } } });
  expect(await loadTwoPersonRule(client)).toEqual(DEFAULT_TWO_PERSON_RULE);
});
