import { beforeAll, describe, expect, it } from "vitest";
import type { Actor, Role } from "@/lib/auth/actor";
import { confirmDecision } from "@/lib/review";
import { useTestDatabase } from "@/test/support/use-test-database";
import { createPolicy, enablePolicy, listPolicyItems, rollbackItem, runRemediation } from "./index";

// The other two policy kinds and the two-person rule, against a real database
// (no proxy here: the proxy path is remediation.test.ts). Each test uses its own
// environment and policy, with the clock passed in.

const DAY = 86_400_000;
const T0 = new Date("2026-12-01T09:00:00Z");
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const ctx = useTestDatabase(4);
let admin: Actor;
let reviewer: Actor;

async function user(email: string, roles: Role[]): Promise<Actor> {
  const u = await ctx.client.user.create({ data: { email, name: email, roles } });
  return { kind: "user", userId: u.id, email, name: email, roles, principalId: null };
}
async function world(tier: "production" | "development", levels: ("read" | "write" | "admin")[]) {
  const c = ctx.client;
  const env = await c.environment.create({ data: { name: `${tier}-${Math.random().toString(36).slice(2, 8)}`, tier } });
  const api = await c.api.create({ data: { name: `api-${env.name}`, baseUrl: "http://upstream.test", environmentId: env.id } });
  const scopes = await Promise.all(levels.map((level) => c.scope.create({ data: { apiId: api.id, name: `${api.name}:${level}`, level } })));
  return { env, api, scopes };
}

beforeAll(async () => {
  admin = await user("ada@example.test", ["admin"]);
  reviewer = await user("rey@example.test", ["reviewer"]);
});

describe("remediation policy kinds", () => {
  it("reduce_service_accounts keeps the scopes used in the window and revokes the rest through a reduce decision", async () => {
    const { env, scopes } = await world("development", ["read", "write", "admin"]);
    const sa = await ctx.client.principal.create({ data: { kind: "service_account", displayName: "billing-sync" } });
    const [read, write, adm] = await Promise.all(
      scopes.map((s, i) => ctx.client.grant.create({ data: { principalId: sa.id, scopeId: s.id, environmentId: env.id, grantedAt: at(-200), lastUsedAt: i === 0 ? at(-5) : at(-120) } })),
    );
    const p = await createPolicy(admin, { name: "Reduce SAs", kind: "reduce_service_accounts", days: 90, noticeDays: 3 }, ctx.client);
    expect(await enablePolicy(admin, { policyId: p.id }, ctx.client, T0)).toEqual({ noticed: 1 });
    expect((await runRemediation(ctx.client, at(3.1))).executed).toBe(1);
    const grants = await ctx.client.grant.findMany({ where: { id: { in: [read.id, write.id, adm.id] } }, select: { id: true, status: true } });
    expect(Object.fromEntries(grants.map((g) => [g.id, g.status]))).toEqual({ [read.id]: "active", [write.id]: "revoked", [adm.id]: "revoked" });
    const d = await ctx.client.decision.findFirstOrThrow({ where: { remediationItemId: (await listPolicyItems(admin, p.id, ctx.client))[0].id } });
    expect(d).toMatchObject({ kind: "reduce", automation: "policy", keptScopeIds: [scopes[0].id] });
  });

  it("revoke_unrotated_keys revokes old keys through the key path, and a rollback restores the key", async () => {
    const sa = await ctx.client.principal.create({ data: { kind: "service_account", displayName: "old-key-holder" } });
    const old = await ctx.client.credential.create({ data: { principalId: sa.id, prefix: "tg_old", hash: "a".repeat(64), createdAt: at(-400) } });
    const fresh = await ctx.client.credential.create({ data: { principalId: sa.id, prefix: "tg_new", hash: "b".repeat(64), createdAt: at(-10) } });
    const p = await createPolicy(admin, { name: "Rotate yearly", kind: "revoke_unrotated_keys", days: 365 }, ctx.client);
    expect(await enablePolicy(admin, { policyId: p.id }, ctx.client, T0)).toEqual({ noticed: 1 });
    expect((await runRemediation(ctx.client, at(7.5))).executed).toBe(1);
    expect((await ctx.client.credential.findUniqueOrThrow({ where: { id: old.id } })).revokedAt).toEqual(at(7.5));
    expect((await ctx.client.credential.findUniqueOrThrow({ where: { id: fresh.id } })).revokedAt).toBeNull();
    const item = (await listPolicyItems(admin, p.id, ctx.client))[0];
    const change = await ctx.client.accessChange.findUniqueOrThrow({ where: { id: item.accessChangeId! } });
    expect(change).toMatchObject({ kind: "revoke_key", actorLabel: "policy:Rotate yearly (enabled by ada@example.test)", credentialIds: [old.id] });
    await rollbackItem(admin, { itemId: item.id }, ctx.client, at(10));
    expect((await ctx.client.credential.findUniqueOrThrow({ where: { id: old.id } })).revokedAt).toBeNull();
    expect(await ctx.client.accessChange.count({ where: { kind: "restore_access", credentialIds: { has: old.id } } })).toBe(1);
  });

  it("under the two-person rule a covered change becomes a proposal on a finding, confirmed by a reviewer", async () => {
    // Production admin scopes are covered by the default rule; the policy kind that reaches production here is the key-less reduce.
    const { env, scopes } = await world("production", ["read", "admin"]);
    const sa = await ctx.client.principal.create({ data: { kind: "service_account", displayName: "prod-deployer" } });
    await ctx.client.grant.create({ data: { principalId: sa.id, scopeId: scopes[0].id, environmentId: env.id, grantedAt: at(-200), lastUsedAt: at(-1) } });
    const adminGrant = await ctx.client.grant.create({ data: { principalId: sa.id, scopeId: scopes[1].id, environmentId: env.id, grantedAt: at(-200), lastUsedAt: null } });
    const p = await createPolicy(admin, { name: "Reduce prod SAs", kind: "reduce_service_accounts", days: 90 }, ctx.client);
    await enablePolicy(admin, { policyId: p.id }, ctx.client, T0);
    expect((await runRemediation(ctx.client, at(8))).proposed).toBe(1);
    const item = (await listPolicyItems(admin, p.id, ctx.client)).find((i) => i.principalId === sa.id)!;
    expect(item.status).toBe("proposed");
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: adminGrant.id } })).status).toBe("active");
    const proposal = await ctx.client.decision.findUniqueOrThrow({ where: { id: item.decisionId! }, include: { finding: true } });
    expect(proposal).toMatchObject({ enforcement: "proposed", automation: "policy", finding: { rule: "over_privileged", status: "open" } });
    await confirmDecision(reviewer, { decisionId: proposal.id }, ctx.client);
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: adminGrant.id } })).status).toBe("revoked");
    // Confirmed, it can be rolled back like a direct execution.
    await rollbackItem(admin, { itemId: item.id }, ctx.client, at(9));
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: adminGrant.id } })).status).toBe("active");
  });

  it("an item used during its notice period is skipped, not executed", async () => {
    const { env, scopes } = await world("development", ["read"]);
    const person = await ctx.client.principal.create({ data: { kind: "user", displayName: "returning-user" } });
    const g = await ctx.client.grant.create({ data: { principalId: person.id, scopeId: scopes[0].id, environmentId: env.id, grantedAt: at(-60) } });
    const p = await createPolicy(admin, { name: "Unused dev", kind: "revoke_unused_grants", days: 30 }, ctx.client);
    await enablePolicy(admin, { policyId: p.id }, ctx.client, T0);
    await ctx.client.grant.update({ where: { id: g.id }, data: { lastUsedAt: at(2) } });
    const items = await listPolicyItems(admin, p.id, ctx.client);
    const mine = items.find((i) => i.grantId === g.id)!;
    await runRemediation(ctx.client, at(7.5));
    const after = await ctx.client.remediationItem.findUniqueOrThrow({ where: { id: mine.id } });
    expect(after.status).toBe("skipped");
    expect(after.summary).toContain("used since the notice");
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: g.id } })).status).toBe("active");
  });
});
