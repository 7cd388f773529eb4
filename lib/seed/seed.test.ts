import bcrypt from "bcryptjs";
import { beforeAll, describe, expect, test } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { listGrants } from "@/lib/inventory";
import { createDb } from "@/lib/db";
import { createTestDatabase } from "@/test/support/db";
import { useTestDatabase } from "@/test/support/use-test-database";
import { buildDemo } from "./build-demo";
import { DEMO_PASSWORD, DEMO_USERS, PLANTED, seedDemo } from "./demo";
import { inventoryIsEmpty, resetInventory } from "./reset";
import { seedScale } from "./scale";
import { seedDemoCampaign } from "./demo-campaign";

const DAY = 86_400_000;
const ctx = useTestDatabase(4);
const now = Date.now();

beforeAll(async () => {
  await seedDemo(ctx.client);
});

async function plantedGrant([externalId, env, scope]: readonly [string, string, string]) {
  return ctx.client.grant.findFirstOrThrow({
    where: { principal: { externalId }, environment: { name: env }, scope: { name: scope } },
    include: { usage: true, principal: { include: { homeEnvironment: true } }, scope: true, environment: true },
  });
}

describe("demo company", () => {
  test("has the advertised size", async () => {
    const apiNames = await ctx.client.api.findMany({ distinct: ["name"], select: { name: true } });
    expect(apiNames).toHaveLength(12);
    expect(await ctx.client.endpoint.count()).toBeGreaterThanOrEqual(140);
    expect(await ctx.client.endpoint.count()).toBeLessThanOrEqual(170);
    expect(await ctx.client.scope.count()).toBeGreaterThanOrEqual(50);
    expect(await ctx.client.scope.count()).toBeLessThanOrEqual(70);
    expect(await ctx.client.principal.count()).toBeGreaterThanOrEqual(380);
    expect(await ctx.client.principal.count()).toBeLessThanOrEqual(450);
    expect(await ctx.client.grant.count()).toBeGreaterThanOrEqual(4500);
    expect(await ctx.client.grant.count()).toBeLessThanOrEqual(5500);
    for (const kind of ["user", "service_account", "api_key"] as const) expect(await ctx.client.principal.count({ where: { kind } })).toBeGreaterThan(10);
    expect(await ctx.client.grantUsageDaily.count()).toBeGreaterThan(10_000);
  });

  test("is deterministic for a given moment", () => {
    const at = new Date("2026-01-15T10:00:00Z");
    expect(JSON.stringify(buildDemo(at))).toBe(JSON.stringify(buildDemo(at)));
  });

  test("usage agrees with Grant.lastUsedAt and stays within 90 days", async () => {
    const [{ mismatched, orphanUsage, future }] = await ctx.client.$queryRaw<{ mismatched: number; orphanUsage: number; future: number }[]>`
      SELECT
        (SELECT count(*) FROM "Grant" g JOIN (SELECT "grantId", max(day) AS last FROM "GrantUsageDaily" GROUP BY 1) u ON u."grantId" = g.id
          WHERE (g."lastUsedAt" AT TIME ZONE 'UTC')::date <> u.last)::int AS mismatched,
        (SELECT count(*) FROM "GrantUsageDaily" u JOIN "Grant" g ON g.id = u."grantId" WHERE g."lastUsedAt" IS NULL)::int AS "orphanUsage",
        (SELECT count(*) FROM "GrantUsageDaily" WHERE day > current_date OR day <= current_date - 90)::int AS future`;
    expect({ mismatched, orphanUsage, future }).toEqual({ mismatched: 0, orphanUsage: 0, future: 0 });
    // Every grant used within the window has a usage row on its last-use day.
    const [{ missing }] = await ctx.client.$queryRaw<{ missing: number }[]>`
      SELECT count(*)::int AS missing FROM "Grant" g WHERE g."lastUsedAt" > now() - interval '89 days'
        AND NOT EXISTS (SELECT 1 FROM "GrantUsageDaily" u WHERE u."grantId" = g.id AND u.day = (g."lastUsedAt" AT TIME ZONE 'UTC')::date)`;
    expect(missing).toBe(0);
  });

  test("credentials store only a prefix and a SHA-256 hash", async () => {
    const creds = await ctx.client.credential.findMany();
    expect(creds.length).toBeGreaterThan(100);
    for (const c of creds) {
      expect(c.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(c.prefix.length).toBeLessThanOrEqual(12);
    }
  });

  test("demo users sign in with the demo password and are linked to principals", async () => {
    const users = await ctx.client.user.findMany({ include: { principal: true } });
    expect(users.map((u) => u.email).sort()).toEqual(DEMO_USERS.map((u) => u.email).sort());
    for (const u of users) {
      expect(u.principal).not.toBeNull();
      expect(await bcrypt.compare(DEMO_PASSWORD, u.passwordHash!)).toBe(true);
      expect(u.passwordHash!.startsWith("$2")).toBe(true);
    }
    expect(users.find((u) => u.email === "reviewer@tollgate.test")!.roles).toEqual(["reviewer"]);
    const manager = users.find((u) => u.email === "manager@tollgate.test")!;
    expect(await ctx.client.principal.count({ where: { managerId: manager.principalId } })).toBeGreaterThan(5);
  });
});

describe("demo campaign", () => {
  test("the demo manager certifies a handful of Checkout principals in a launched campaign", async () => {
    const r = await seedDemoCampaign(ctx.client);
    expect(r).not.toBeNull();
    const manager = await ctx.client.user.findUniqueOrThrow({ where: { email: "manager@tollgate.test" } });
    const reports = await ctx.client.principal.count({ where: { managerId: manager.principalId } });
    expect(reports).toBeGreaterThanOrEqual(5);
    const mine = await ctx.client.campaignItem.count({ where: { campaignId: r!.campaignId, reviewers: { some: { userId: manager.id } } } });
    expect(mine).toBeGreaterThanOrEqual(5);
    expect(mine).toBeLessThanOrEqual(r!.itemCount);
    // Idempotent: a second start seeds no second campaign.
    expect(await seedDemoCampaign(ctx.client)).toBeNull();
  });
});

describe("planted cases", () => {
  test("every planted principal and grant exists", async () => {
    for (const c of Object.values(PLANTED)) {
      for (const ext of c.principals) expect(await ctx.client.principal.findUnique({ where: { externalId: ext } }), ext).not.toBeNull();
      for (const g of c.grants) await plantedGrant(g);
    }
  });

  test("dormant: active, last used over 90 days ago, no usage in the window", async () => {
    for (const g of PLANTED.dormant.grants) {
      const grant = await plantedGrant(g);
      expect(grant.status).toBe("active");
      expect(grant.lastUsedAt!.getTime()).toBeLessThan(now - 90 * DAY);
      expect(grant.usage).toHaveLength(0);
    }
  });

  test("never used: active, granted over 90 days ago, no use at all", async () => {
    for (const g of PLANTED.neverUsed.grants) {
      const grant = await plantedGrant(g);
      expect(grant.status).toBe("active");
      expect(grant.lastUsedAt).toBeNull();
      expect(grant.grantedAt.getTime()).toBeLessThan(now - 90 * DAY);
    }
  });

  test("write/admin used only for reads: the privileged grant is unused, the read grant on the same API is used", async () => {
    for (const g of PLANTED.readOnlyUse.grants) {
      const grant = await plantedGrant(g);
      expect(["write", "admin"]).toContain(grant.scope.level);
      expect(grant.usage).toHaveLength(0);
      const read = await ctx.client.grant.findFirstOrThrow({
        where: { principalId: grant.principalId, environmentId: grant.environmentId, scope: { apiId: grant.scope.apiId, level: "read" } },
        include: { usage: true },
      });
      expect(read.usage.length).toBeGreaterThan(10);
    }
  });

  test("deprovisioned and suspended principals still hold active grants", async () => {
    for (const g of PLANTED.deprovisionedWithGrants.grants) {
      const grant = await plantedGrant(g);
      expect(grant.principal.status).toBe("deprovisioned");
      expect(grant.principal.deprovisionedAt).not.toBeNull();
      expect(grant.status).toBe("active");
    }
    for (const g of PLANTED.suspended.grants) {
      const grant = await plantedGrant(g);
      expect(grant.principal.status).toBe("suspended");
      expect(grant.status).toBe("active");
    }
    // Ordinary leavers were cleaned up: only planted deprovisioned principals hold active grants.
    const holders = await ctx.client.principal.findMany({ where: { status: "deprovisioned", grants: { some: { status: "active" } } }, select: { externalId: true } });
    expect(holders.map((h) => h.externalId).sort()).toEqual([...PLANTED.deprovisionedWithGrants.principals].sort());
  });

  test("stale credentials: not rotated in 180 days or past expiry, not revoked", async () => {
    for (const ext of PLANTED.staleCredential.principals) {
      const creds = await ctx.client.credential.findMany({ where: { principal: { externalId: ext }, revokedAt: null } });
      const stale = creds.filter((c) => (c.rotatedAt ?? c.createdAt).getTime() < now - 180 * DAY || (c.expiresAt && c.expiresAt.getTime() < now));
      expect(stale.length, ext).toBeGreaterThan(0);
    }
  });

  test("cross-environment, privileged service account, expired-but-active", async () => {
    for (const g of PLANTED.crossEnvironment.grants) {
      const grant = await plantedGrant(g);
      expect(grant.principal.homeEnvironment?.name).toBe("development");
      expect(grant.environment.name).toBe("production");
    }
    for (const g of PLANTED.privilegedService.grants) {
      const grant = await plantedGrant(g);
      expect(grant.principal.kind).toBe("service_account");
      expect(grant.scope.level).toBe("admin");
    }
    for (const g of PLANTED.expiredActive.grants) {
      const grant = await plantedGrant(g);
      expect(grant.status).toBe("active");
      expect(grant.expiresAt!.getTime()).toBeLessThan(now);
    }
    // Only the planted grants are expired yet still active.
    expect(await ctx.client.grant.count({ where: { status: "active", expiresAt: { lt: new Date() } } })).toBe(PLANTED.expiredActive.grants.length);
  });

  test("healthy principals: active, every grant active and used this week, fresh credentials", async () => {
    for (const ext of PLANTED.healthy.principals) {
      const p = await ctx.client.principal.findUniqueOrThrow({ where: { externalId: ext }, include: { grants: true, credentials: true, homeEnvironment: true } });
      expect(p.status).toBe("active");
      expect(p.grants.length).toBeGreaterThan(0);
      for (const g of p.grants) {
        expect(g.status).toBe("active");
        expect(g.lastUsedAt!.getTime()).toBeGreaterThan(now - 7 * DAY);
        expect(g.expiresAt).toBeNull();
      }
      for (const c of p.credentials) {
        expect((c.rotatedAt ?? c.createdAt).getTime()).toBeGreaterThan(now - 180 * DAY);
        expect(c.expiresAt === null || c.expiresAt.getTime() > now).toBe(true);
      }
      if (p.homeEnvironment) expect(p.grants.every((g) => g.environmentId === p.homeEnvironmentId)).toBe(true);
    }
  });
});

describe("reset and scale", () => {
  test("a seeded inventory is not empty; reset empties it in one statement and keeps the audit log", async () => {
    const tdb = await createTestDatabase();
    const other = createDb(tdb.url, 2);
    try {
      expect(await inventoryIsEmpty(other)).toBe(true);
      const r = await seedScale(other, { grants: 12_345 });
      expect(r).toMatchObject({ grants: 12_345, principals: 618 });
      expect(await other.grant.count()).toBe(12_345);
      expect(await inventoryIsEmpty(other)).toBe(false);
      // The schema is intact after the bulk load (indexes and foreign keys restored).
      const [{ n }] = await other.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'Grant'`;
      expect(n).toBeGreaterThan(8);
      await expect(other.grant.create({ data: { principalId: "00000000-0000-4000-8000-000000000000", scopeId: "00000000-0000-4000-8000-000000000000", environmentId: "00000000-0000-4000-8000-000000000000" } })).rejects.toThrow();
      const [{ bad }] = await other.$queryRaw<{ bad: number }[]>`
        SELECT count(*)::int AS bad FROM "GrantUsageDaily" u JOIN "Grant" g ON g.id = u."grantId" WHERE u.day > (g."lastUsedAt" AT TIME ZONE 'UTC')::date`;
      expect(bad).toBe(0);
      // More than 10,000 matches: the count stops at the cap.
      const page = await listGrants(systemActor("test"), {}, other, { countBudgetMs: 30_000 });
      expect(page.totalCapped).toBe(true);
      expect(page.pageCount).toBe(400);
      // A count that overruns its time budget leaves the total unknown; paging still works.
      // (1 ms cannot cover hash-joining 12,345 grants with principals and scopes.)
      const unknown = await listGrants(systemActor("test"), { kind: "user", level: "read" }, other, { countBudgetMs: 1 });
      expect(unknown.rows).toHaveLength(25);
      expect(unknown.total).toBeNull();
      expect(unknown.pageCount).toBeNull();
      expect(unknown.hasNext).toBe(true);
      await other.$executeRawUnsafe(`INSERT INTO "AuditEvent"(id, actor, action, data, "prevHash", hash) VALUES (gen_random_uuid(), 't', 'x', '{}', '0', '1')`);
      await resetInventory(other);
      expect(await inventoryIsEmpty(other)).toBe(true);
      expect(await other.grant.count()).toBe(0);
      expect(await other.auditEvent.count()).toBe(1);
    } finally {
      await other.$disconnect();
      await tdb.drop();
    }
  });
});
