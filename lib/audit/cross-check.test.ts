import pg from "pg";
import { expect, test } from "vitest";
import { createDb } from "@/lib/db";
import { createTestDatabase } from "@/test/support/db";
import { useTestDatabase } from "@/test/support/use-test-database";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { revokeGrant } from "@/lib/review";
import { recordExportEnd, recordExportStart } from "@/lib/reports/records";
import { eventHash, GENESIS_HASH } from "./canonical";
import { verifyAuditLog } from "./verify";

// An insider deletes the events of a decision and of an export and re-chains the
// rest consistently, before any checkpoint exists: the chain verifies, but the
// rows those actions left behind name what is missing.

const ctx = useTestDatabase(4);

test("a decision, its revoked grant and an export whose events were deleted are named, with a re-hashed chain and no checkpoint", async () => {
  const env = await makeEnvironment(ctx.client, "production", "prod");
  const { scopes } = await makeApi(ctx.client, env.id, ["read"], { name: "orders" });
  const p = await makePrincipal(ctx.client, { name: "dora" });
  const grant = await makeGrant(ctx.client, { principalId: p.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(300) });
  const finding = await ctx.client.finding.create({ data: { grantId: grant.id, rule: "dormant", severity: "high", riskScore: 80, evidence: {}, suggestion: "revoke" } });
  const reviewer = await makeReviewer(ctx.client, ["reviewer"]);
  const auditor = await makeReviewer(ctx.client, ["auditor"]);
  const decision = await revokeGrant(reviewer.actor, { findingId: finding.id }, ctx.client);
  const started = await recordExportStart(ctx.client, auditor.actor, { report: "inventory", format: "csv", filters: {} });
  await recordExportEnd(ctx.client, auditor.actor, started.id, { status: "completed", rowCount: 1, byteCount: 10, sha256: "a".repeat(64) });

  const clean = await verifyAuditLog(ctx.client, { trustedKeys: [] });
  expect(clean.crossChecks).toEqual([]);
  expect(clean.ok).toBe(true);

  const rows = await ctx.client.auditEvent.findMany({ orderBy: { seq: "asc" } });
  const hidden = new Set(rows.filter((r) => r.action === "decision.revoke" || r.action === "report.export_started").map((r) => r.id));
  expect(hidden.size).toBe(2);
  let prev = GENESIS_HASH;
  const kept = rows.filter((r) => !hidden.has(r.id)).map((r) => {
    const hash = eventHash(prev, r);
    const row = { ...r, prevHash: prev, hash };
    prev = hash;
    return row;
  });
  const c = new pg.Client({ connectionString: ctx.tdb.url });
  await c.connect();
  await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`);
  await c.query(`DELETE FROM "AuditEvent"`);
  for (const r of kept) {
    await c.query(`INSERT INTO "AuditEvent" (seq, id, at, actor, action, target, data, "prevHash", hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      r.seq,
      r.id,
      r.at,
      r.actor,
      r.action,
      r.target,
      JSON.stringify(r.data),
      r.prevHash,
      r.hash,
    ]);
  }
  await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER USER`);
  await c.end();

  const v = await verifyAuditLog(ctx.client, { trustedKeys: [] });
  expect(v.chain.ok).toBe(true); // consistent: only the cross-checks can tell
  expect(v.ok).toBe(false);
  expect(v.crossChecks.map((f) => [f.kind, f.id]).sort()).toEqual(
    [
      ["decision", decision.decisionId],
      ["export", started.id],
      ["grant", grant.id],
    ].sort(),
  );
  expect(v.problems.join("\n")).toContain(`decision ${decision.decisionId} (revoke, `);
  expect(v.problems.join("\n")).toContain(`export ${started.id} (completed) has no report.export_started audit event`);
  expect(v.problems.join("\n")).toContain(`grant ${grant.id} was revoked at `);
  expect(v.notes.join("\n")).toMatch(/no audit public key configured/);
});

test("the demo company, seeded with its campaign, has no cross-check findings (history from before the log is not flagged)", async () => {
  const db2 = await createTestDatabase();
  const c2 = createDb(db2.url, 4);
  try {
    const { seedDemo } = await import("@/lib/seed");
    const { seedDemoCampaign } = await import("@/lib/seed/demo-campaign");
    await seedDemo(c2);
    await seedDemoCampaign(c2);
    const v = await verifyAuditLog(c2, { trustedKeys: [] });
    expect(v.crossChecks).toEqual([]);
    expect(v.chain.ok).toBe(true);
  } finally {
    await c2.$disconnect();
    await db2.drop();
  }
}, 300_000);

test("a sign-off without its campaign.sign_off event (or with another digest) is named", async () => {
  const owner = await makeReviewer(ctx.client, ["admin"]);
  const campaign = await ctx.client.campaign.create({
    data: { name: "Q4 review", period: "2026-Q4", scope: {}, reviewerRule: "named", closePolicy: "revoke", dueAt: new Date(Date.now() + 86_400_000), ownerId: owner.user.id },
  });
  // The row a sign-off leaves behind, with no event for it (as if its event had been deleted).
  const signOff = await ctx.client.campaignSignOff.create({
    data: { campaignId: campaign.id, userId: owner.user.id, attestation: "I reviewed every item", itemCount: 0, itemsSha256: "b".repeat(64) },
  });
  const v = await verifyAuditLog(ctx.client, { trustedKeys: [] });
  const found = v.crossChecks.filter((f) => f.kind === "sign_off");
  expect(found).toEqual([
    { kind: "sign_off", id: signOff.id, message: `sign-off ${signOff.id} of campaign ${campaign.id} has no campaign.sign_off audit event (1 such sign-offs): its event was deleted` },
  ]);
});
