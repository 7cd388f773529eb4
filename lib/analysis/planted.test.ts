import { afterAll, beforeAll, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor } from "@/lib/auth/actor";
import type { FindingRule } from "@/lib/generated/prisma/client";
import { PLANTED, seedDemo, type PlantedCaseName } from "@/lib/seed";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { runAnalysis } from "./index";

// The demo company's planted cases (lib/seed/planted.ts) are the known answers.
let tdb: TestDatabase;
let client: PrismaClient;

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  await seedDemo(client);
  // Usage is fresh in the demo: the feed is not stale, so nothing is held back.
  await client.proxy.updateMany({ data: { lastReportAt: new Date() } });
  await runAnalysis(systemActor("test"), {}, client);
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

async function rulesOnGrant([externalId, env, scope]: readonly [string, string, string]): Promise<FindingRule[]> {
  const grant = await client.grant.findFirstOrThrow({ where: { principal: { externalId }, environment: { name: env }, scope: { name: scope } } });
  const findings = await client.finding.findMany({ where: { grantId: grant.id, status: "open" }, select: { rule: true } });
  return findings.map((f) => f.rule);
}

async function rulesOnPrincipal(externalId: string): Promise<FindingRule[]> {
  const findings = await client.finding.findMany({ where: { grant: { principal: { externalId } }, status: "open" }, select: { rule: true } });
  return findings.map((f) => f.rule);
}

const EXPECTED: Record<Exclude<PlantedCaseName, "healthy" | "staleCredential">, FindingRule> = {
  dormant: "dormant",
  neverUsed: "never_used",
  readOnlyUse: "over_privileged",
  deprovisionedWithGrants: "orphaned",
  suspended: "orphaned",
  crossEnvironment: "cross_environment",
  privilegedService: "privileged_service",
  expiredActive: "expired_active",
  reviewerOwnGrant: "dormant",
};

test.each(Object.entries(EXPECTED))("planted case %s is flagged as %s", async (name, rule) => {
  for (const grant of PLANTED[name as keyof typeof EXPECTED].grants) {
    expect(await rulesOnGrant(grant), grant.join(" ")).toContain(rule);
  }
});

test("planted stale credentials flag their principals' grants", async () => {
  let checked = 0;
  for (const p of PLANTED.staleCredential.principals) {
    const active = await client.grant.count({ where: { principal: { externalId: p }, status: "active" } });
    if (active === 0) continue;
    checked++;
    expect(await rulesOnPrincipal(p), p).toContain("stale_credential");
  }
  expect(checked).toBeGreaterThan(0);
});

test("healthy principals, using their grants as granted, are not flagged at all", async () => {
  for (const grant of PLANTED.healthy.grants) expect(await rulesOnGrant(grant), grant.join(" ")).toEqual([]);
  for (const p of PLANTED.healthy.principals) expect(await rulesOnPrincipal(p), p).toEqual([]);
});
