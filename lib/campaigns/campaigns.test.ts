import { describe, expect, test } from "vitest";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { useTestDatabase } from "@/test/support/use-test-database";
import { bulkCertify, certifyItem } from "./certify";
import { closeCampaign } from "./close";
import { confirmItemDecision } from "./confirm";
import { createCampaign } from "./create";
import { delegateItems } from "./delegate";
import { snapshotDigest, storedSnapshotDigest } from "./evidence";
import { LAUNCH_CONFIRM_ABOVE, launchCampaign } from "./launch";
import { previewLaunch } from "./preview";
import { listMyItems } from "./my-items";
import { getCampaignDashboard } from "./queries";
import { signOffCampaign } from "./sign-off";
import { ATTESTATION } from "./schemas";
import { expectError } from "@/test/support/errors";

// Launch, certify, delegate, sign-off and separation of duties against a real
// database of this file's own. Jobs and the clock: jobs.test.ts.
const ctx = useTestDatabase(4);
const DAY = 86_400_000;

/** A team with a manager (a user with the manager role), two reports, a service account one of them owns, and the manager's own grant. */
async function company() {
  const c = ctx.client;
  const env = await makeEnvironment(c, "production");
  for (const name of ["p-a", "p-b"]) await c.proxy.create({ data: { name: `${name}-${env.id.slice(0, 6)}`, adminUrl: "http://127.0.0.1:1", adminToken: "x".repeat(20), environmentId: env.id } });
  const team = await c.team.create({ data: { name: `team-${env.id.slice(0, 8)}` } });
  const other = await c.team.create({ data: { name: `other-${env.id.slice(0, 8)}` } });
  const { api, scopes } = await makeApi(c, env.id, ["read", "write", "admin"], { teamId: team.id });
  const boss = await makePrincipal(c, { teamId: team.id, name: "Boss" });
  const mgrP = await c.principal.update({ where: { id: (await makePrincipal(c, { teamId: team.id, name: "Mgr" })).id }, data: { managerId: boss.id } });
  const manager = await makeReviewer(c, ["manager"], mgrP.id);
  const admin = await makeReviewer(c, ["admin"]);
  const reviewerP = await makePrincipal(c, { teamId: other.id, name: "Rev" });
  const reviewer = await makeReviewer(c, ["reviewer"], reviewerP.id);
  const report = async (name: string) => c.principal.update({ where: { id: (await makePrincipal(c, { teamId: team.id, name })).id }, data: { managerId: mgrP.id } });
  const alice = await report("Alice");
  const bob = await report("Bob");
  const svc = await c.principal.update({ where: { id: (await makePrincipal(c, { kind: "service_account", teamId: team.id, name: "svc" })).id }, data: { managerId: alice.id } });
  const outsider = await makePrincipal(c, { teamId: other.id, name: "Outsider" });
  const g = (principalId: string, level: "read" | "write" | "admin", o: { lastUsedAt?: Date | null; expiresAt?: Date | null } = {}) =>
    makeGrant(c, { principalId, scopeId: scopes[level].id, environmentId: env.id, lastUsedAt: o.lastUsedAt ?? daysAgo(3), expiresAt: o.expiresAt ?? null });
  const grants = {
    aliceRead: await g(alice.id, "read"),
    aliceWrite: await g(alice.id, "write", { lastUsedAt: daysAgo(200) }),
    bobRead: await g(bob.id, "read"),
    svcAdmin: await g(svc.id, "admin"),
    mgrRead: await g(mgrP.id, "read"),
  };
  // Out of scope: another team's grant, an expired one, a revoked one.
  await g(outsider.id, "read");
  await g(bob.id, "write", { expiresAt: daysAgo(1) });
  await c.grant.update({ where: { id: (await g(bob.id, "admin")).id }, data: { status: "revoked", revokedAt: new Date() } });
  const finding = await c.finding.create({ data: { grantId: grants.aliceWrite.id, rule: "dormant", severity: "high", riskScore: 80, evidence: {}, suggestion: "Revoke" } });
  return { env, team, api, scopes, manager, admin, reviewer, alice, bob, svc, mgrP, grants, finding };
}

type Company = Awaited<ReturnType<typeof company>>;

async function launched(co: Company, o: { rule?: "manager" | "owning_team" | "named"; named?: string[]; dueInDays?: number } = {}) {
  const created = await createCampaign(
    co.admin.actor,
    {
      name: "Checkout access 2026-Q4",
      period: "2026-Q4",
      teamIds: [co.team.id],
      environmentIds: [co.env.id],
      dueAt: new Date(Date.now() + (o.dueInDays ?? 14) * DAY).toISOString(),
      reviewerRule: o.rule ?? "manager",
      namedReviewerIds: o.named ?? [],
      closePolicy: "revoke",
    },
    ctx.client,
  );
  const r = await launchCampaign(co.admin.actor, { campaignId: created.id }, ctx.client);
  const items = await ctx.client.campaignItem.findMany({ where: { campaignId: created.id }, include: { reviewers: true } });
  const byGrant = (grantId: string) => items.find((i) => i.grantId === grantId)!;
  return { id: created.id, launch: r, items, byGrant };
}

const pendingFor = (campaignId: string, userId: string) =>
  ctx.client.campaignItem.count({ where: { campaignId, decision: null, reviewers: { some: { userId } } } });

describe("launch", () => {
  test("snapshots exactly the in-scope grants with findings and last use, and a SHA-256 anyone can recompute from the items", async () => {
    const co = await company();
    const c = await launched(co);
    expect(c.launch.itemCount).toBe(5);
    expect(c.items.map((i) => i.grantId).sort()).toEqual(Object.values(co.grants).map((g) => g.id).sort());
    const campaign = await ctx.client.campaign.findUniqueOrThrow({ where: { id: c.id } });
    expect(campaign).toMatchObject({ status: "active", snapshotCount: 5, snapshotSha256: c.launch.sha256 });
    expect(campaign.snapshotAt).not.toBeNull();
    expect(campaign.snapshotCriteria).toMatchObject({ teams: [{ id: co.team.id, name: co.team.name }], apis: "all" });
    // Reproducible: from the stored items in JS, and in SQL.
    expect(snapshotDigest(c.items)).toBe(c.launch.sha256);
    expect((await storedSnapshotDigest(ctx.client as never, c.id)).sha256).toBe(c.launch.sha256);
    // ...and sensitive to a single changed row.
    expect(snapshotDigest(c.items.slice(1))).not.toBe(c.launch.sha256);
    const dormant = c.byGrant(co.grants.aliceWrite.id);
    expect(dormant).toMatchObject({ openFindingCount: 1, principalName: "Alice", apiName: co.api.name, teamName: co.team.name, scopeLevel: "write" });
    expect(dormant.openFindings).toEqual([{ id: co.finding.id, rule: "dormant", severity: "high", riskScore: 80 }]);
    expect(dormant.lastUsedAt?.toISOString()).toBe(co.grants.aliceWrite.lastUsedAt?.toISOString());
    await expect(ctx.client.auditEvent.count({ where: { action: "campaign.launch", target: `campaign:${c.id}` } })).resolves.toBe(1);
    await expectError(launchCampaign(co.admin.actor, { campaignId: c.id }, ctx.client), "conflict");
  });

  test("reviewers: the manager for people, the owner's manager for a service account, the campaign owner when nobody is eligible", async () => {
    const co = await company();
    const c = await launched(co);
    const who = (grantId: string) => c.byGrant(grantId).reviewers.map((r) => [r.userId, r.source]);
    expect(who(co.grants.aliceRead.id)).toEqual([[co.manager.user.id, "manager"]]);
    expect(who(co.grants.bobRead.id)).toEqual([[co.manager.user.id, "manager"]]);
    // svc is owned by Alice (who may not certify her own credential): her manager reviews it.
    expect(who(co.grants.svcAdmin.id)).toEqual([[co.manager.user.id, "manager"]]);
    // The manager's own grant: their manager has no user → the campaign owner.
    expect(who(co.grants.mgrRead.id)).toEqual([[co.admin.user.id, "owner_fallback"]]);
    const note = await ctx.client.notification.findFirstOrThrow({ where: { userId: co.manager.user.id, kind: "campaign.assigned" } });
    expect(note.message).toContain("4 item(s)");
  });

  test("named reviewers never get an item about their own access (separation of duties at assignment)", async () => {
    const co = await company();
    const c = await launched(co, { rule: "named", named: [co.manager.user.id, co.reviewer.user.id] });
    expect(c.byGrant(co.grants.mgrRead.id).reviewers.map((r) => r.userId)).toEqual([co.reviewer.user.id]);
    expect(c.byGrant(co.grants.aliceRead.id).reviewers.map((r) => r.userId).sort()).toEqual([co.manager.user.id, co.reviewer.user.id].sort());
  });

  test("bad input is a 400 naming the field, and nothing is created", async () => {
    const co = await company();
    const before = await ctx.client.campaign.count();
    const base = { name: "Q", period: "2026-Q4", dueAt: new Date(Date.now() + DAY).toISOString(), reviewerRule: "manager", closePolicy: "revoke" };
    await expectError(createCampaign(co.admin.actor, { ...base, name: "Quarterly" , period: "last quarter" }, ctx.client), "bad_request", "period");
    await expectError(createCampaign(co.admin.actor, { ...base, name: "Quarterly", dueAt: "2001-01-01" }, ctx.client), "bad_request", "dueAt");
    await expectError(createCampaign(co.admin.actor, { ...base, name: "Quarterly", reviewerRule: "named" }, ctx.client), "bad_request", "namedReviewerIds");
    await expectError(createCampaign(co.admin.actor, { ...base, name: "Quarterly", teamIds: ["00000000-0000-4000-8000-000000000000"] }, ctx.client), "bad_request", "teamIds");
    await expectError(createCampaign(co.admin.actor, { ...base, name: "Quarterly", namedReviewerIds: [co.admin.user.id], reviewerRule: "named" }, ctx.client), "bad_request", "namedReviewerIds");
    expect(await ctx.client.campaign.count()).toBe(before);
  });
});

describe("certify", () => {
  test("revoke goes through the review loop's path: Decision (campaign item, no finding), revoked grant, closed findings, one outbox row per proxy, audit", async () => {
    const co = await company();
    const c = await launched(co);
    const item = c.byGrant(co.grants.aliceWrite.id);
    const r = await certifyItem(co.manager.actor, { itemId: item.id, decision: "revoke", justification: "Not used in 200 days" }, ctx.client);
    expect(r).toMatchObject({ decision: "revoke", enforcement: "pending" });
    const d = await ctx.client.decision.findUniqueOrThrow({ where: { id: r.decisionId } });
    expect(d).toMatchObject({ campaignItemId: item.id, findingId: null, kind: "revoke", grantId: item.grantId, deciderId: co.manager.user.id, awaitingConfirmation: false });
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: item.grantId } })).status).toBe("revoked");
    expect((await ctx.client.finding.findUniqueOrThrow({ where: { id: co.finding.id } })).status).toBe("closed");
    const outbox = await ctx.client.outboxItem.findMany({ where: { decisionId: r.decisionId } });
    expect(outbox).toHaveLength(2);
    expect(outbox[0].payload).toEqual({ idempotencyKey: r.decisionId, ops: [{ op: "delete", kind: "grant", id: item.grantId }] });
    const after = await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: item.id } });
    expect(after).toMatchObject({ decision: "revoke", justification: "Not used in 200 days", decidedById: co.manager.user.id });
    await expect(ctx.client.auditEvent.count({ where: { action: "campaign.item_revoke", target: `campaign_item:${item.id}` } })).resolves.toBe(1);
    // Decided once: a second decision is a conflict.
    await expectError(certifyItem(co.manager.actor, { itemId: item.id, decision: "keep", justification: "changed my mind!" }, ctx.client), "conflict");
  });

  test("keep needs a justification and changes no grant; reduce keeps the chosen scopes and revokes the rest", async () => {
    const co = await company();
    const c = await launched(co);
    const keep = c.byGrant(co.grants.bobRead.id);
    await expectError(certifyItem(co.manager.actor, { itemId: keep.id, decision: "keep", justification: "ok" }, ctx.client), "bad_request", "justification");
    const k = await certifyItem(co.manager.actor, { itemId: keep.id, decision: "keep", justification: "Bob runs the nightly order export" }, ctx.client);
    expect(k.enforcement).toBe("not_required");
    expect((await ctx.client.decision.findUniqueOrThrow({ where: { id: k.decisionId } })).kind).toBe("approve");
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: keep.grantId } })).status).toBe("active");

    const reduce = c.byGrant(co.grants.aliceRead.id);
    const r = await certifyItem(co.manager.actor, { itemId: reduce.id, decision: "reduce", justification: "Alice only needs to read", keepScopeIds: [co.scopes.read.id] }, ctx.client);
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: co.grants.aliceWrite.id } })).status).toBe("revoked");
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: co.grants.aliceRead.id } })).status).toBe("active");
    // The write item's grant is gone: it is decided too, not left for someone to certify.
    const sibling = await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: c.byGrant(co.grants.aliceWrite.id).id } });
    expect(sibling.decision).toBe("revoke");
    expect(sibling.justification).toContain(reduce.id);
    expect(r.enforcement).toBe("pending");
  });

  test("separation of duties: nobody decides an item about their own grant, even when on its list; nothing changes", async () => {
    const co = await company();
    const c = await launched(co);
    const own = c.byGrant(co.grants.mgrRead.id);
    await ctx.client.campaignItemReviewer.create({ data: { itemId: own.id, userId: co.manager.user.id, source: "named" } });
    await expectError(certifyItem(co.manager.actor, { itemId: own.id, decision: "keep", justification: "I need my own access" }, ctx.client), "forbidden");
    expect((await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: own.id } })).decision).toBeNull();
    expect(await ctx.client.decision.count({ where: { campaignItemId: own.id } })).toBe(0);
    // ...and an item not on the caller's list is a 403 too.
    await expectError(certifyItem(co.reviewer.actor, { itemId: c.byGrant(co.grants.bobRead.id).id, decision: "keep", justification: "Looks fine to me" }, ctx.client), "forbidden");
  });

  test("bulk keep decides each item on its own, reports two-person proposals apart, and the ones decided meanwhile", async () => {
    const co = await company();
    const c = await launched(co);
    // svc's admin scope in production falls under the default two-person rule.
    const ids = [co.grants.aliceRead.id, co.grants.svcAdmin.id, co.grants.bobRead.id].map((g) => c.byGrant(g).id);
    await certifyItem(co.manager.actor, { itemId: ids[2], decision: "revoke", justification: "Bob moved to another team" }, ctx.client);
    const r = await bulkCertify(co.manager.actor, { itemIds: ids, decision: "keep", justification: "Quarterly check: still needed" }, ctx.client);
    expect(r.decided.map((d) => d.itemId)).toEqual([ids[0]]);
    expect(r.proposed.map((d) => [d.itemId, d.awaitingConfirmation])).toEqual([[ids[1], true]]);
    expect(r.failed).toEqual([{ itemId: ids[2], code: "conflict", message: expect.stringContaining("already decided") }]);
  });

  test("items decided by one reviewer leave the other reviewers' lists", async () => {
    const co = await company();
    const c = await launched(co, { rule: "named", named: [co.manager.user.id, co.reviewer.user.id] });
    const before = await pendingFor(c.id, co.reviewer.user.id);
    await certifyItem(co.manager.actor, { itemId: c.byGrant(co.grants.bobRead.id).id, decision: "keep", justification: "Bob still on the team" }, ctx.client);
    expect(await pendingFor(c.id, co.reviewer.user.id)).toBe(before - 1);
  });
});

describe("notes and recommendations (issue 19, point 7)", () => {
  test("keeping an item with open findings needs its own note; a revoke or a keep of a clean item does not", async () => {
    const co = await company();
    const c = await launched(co);
    const risky = c.byGrant(co.grants.aliceWrite.id); // dormant finding
    await expectError(certifyItem(co.manager.actor, { itemId: risky.id, decision: "keep" }, ctx.client), "bad_request", "justification");
    expect((await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: risky.id } })).decision).toBeNull();
    await certifyItem(co.manager.actor, { itemId: risky.id, decision: "keep", justification: "Alice runs the quarterly write-back" }, ctx.client);
    const clean = await certifyItem(co.manager.actor, { itemId: c.byGrant(co.grants.bobRead.id).id, decision: "keep" }, ctx.client);
    expect(await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: clean.itemId } })).toMatchObject({ decision: "keep", justification: null });
  });

  test("an accepted recommendation is recomputed from the item's findings and recorded in words; a stale one is a conflict", async () => {
    const co = await company();
    const c = await launched(co);
    const dormant = c.byGrant(co.grants.aliceWrite.id);
    await expectError(certifyItem(co.manager.actor, { itemId: dormant.id, decision: "keep", acceptRecommendation: true }, ctx.client), "conflict");
    const r = await certifyItem(co.manager.actor, { itemId: dormant.id, decision: "revoke", acceptRecommendation: true }, ctx.client);
    expect(r).toMatchObject({ decision: "revoke", awaitingConfirmation: false });
    expect((await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: dormant.id } })).justification).toBe("Accepted the recommendation to revoke (dormant)");
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: dormant.grantId } })).status).toBe("revoked");
    // The reviewer's own note wins over the generated sentence.
    const kept = await certifyItem(co.manager.actor, { itemId: c.byGrant(co.grants.bobRead.id).id, decision: "keep", acceptRecommendation: true, justification: "Checked with Bob's lead" }, ctx.client);
    expect((await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: kept.itemId } })).justification).toBe("Checked with Bob's lead");
  });

  test("bulk keep takes each row's note: a risky item without one is refused on its row, the others are kept with theirs", async () => {
    const co = await company();
    const c = await launched(co);
    const [risky, clean, noted] = [co.grants.aliceWrite.id, co.grants.bobRead.id, co.grants.aliceRead.id].map((g) => c.byGrant(g).id);
    const r = await bulkCertify(co.manager.actor, { itemIds: [risky, clean, noted], decision: "keep", notes: { [noted]: "Alice reads orders daily" } }, ctx.client);
    expect(r.decided.map((d) => d.itemId).sort()).toEqual([clean, noted].sort());
    expect(r.failed).toEqual([{ itemId: risky, code: "bad_request", message: expect.stringContaining("needs a note") }]);
    const items = await ctx.client.campaignItem.findMany({ where: { id: { in: [risky, clean, noted] } }, select: { id: true, decision: true, justification: true } });
    expect(Object.fromEntries(items.map((i) => [i.id, [i.decision, i.justification]]))).toEqual({ [risky]: [null, null], [clean]: ["keep", null], [noted]: ["keep", "Alice reads orders daily"] });
    await expectError(bulkCertify(co.manager.actor, { itemIds: [risky], decision: "keep", notes: { [risky]: "short" } }, ctx.client), "bad_request");
  });
});

describe("delegate and sign-off", () => {
  test("delegating moves the items to the delegate (audited, notified); the delegate must be allowed to decide them", async () => {
    const co = await company();
    const c = await launched(co);
    const item = c.byGrant(co.grants.bobRead.id);
    await expectError(delegateItems(co.manager.actor, { itemIds: [item.id], toUserId: co.admin.user.id }, ctx.client), "bad_request", "toUserId");
    const r = await delegateItems(co.manager.actor, { itemIds: [item.id], toUserId: co.reviewer.user.id }, ctx.client);
    expect(r.delegated).toBe(1);
    const rows = await ctx.client.campaignItemReviewer.findMany({ where: { itemId: item.id } });
    expect(rows).toEqual([expect.objectContaining({ userId: co.reviewer.user.id, source: "delegated", delegatedFromId: co.manager.user.id })]);
    await expect(ctx.client.notification.count({ where: { userId: co.reviewer.user.id, kind: "campaign.delegated" } })).resolves.toBe(1);
    await expect(ctx.client.auditEvent.count({ where: { action: "campaign.delegate", target: `user:${co.reviewer.user.id}` } })).resolves.toBe(1);
    // No longer the manager's to decide or delegate.
    await expectError(certifyItem(co.manager.actor, { itemId: item.id, decision: "keep", justification: "Bob still needs it" }, ctx.client), "forbidden");
    await certifyItem(co.reviewer.actor, { itemId: item.id, decision: "keep", justification: "Checked with Bob's lead" }, ctx.client);

    // A delegate cannot receive an item about their own access.
    const reviewerGrant = await makeGrant(ctx.client, { principalId: co.reviewer.user.principalId!, scopeId: co.scopes.write.id, environmentId: co.env.id });
    const mine = await ctx.client.campaignItem.create({
      data: { ...(({ id, createdAt, decision, decidedAt, decidedById, justification, keptScopeIds, reviewers, ...rest }) => rest)(item), grantId: reviewerGrant.id, principalId: co.reviewer.user.principalId!, openFindings: [] } as never,
    });
    await ctx.client.campaignItemReviewer.create({ data: { itemId: mine.id, userId: co.manager.user.id, source: "manager" } });
    await expectError(delegateItems(co.manager.actor, { itemIds: [mine.id], toUserId: co.reviewer.user.id }, ctx.client), "bad_request", "toUserId");
    expect(await ctx.client.campaignItemReviewer.count({ where: { itemId: mine.id, userId: co.manager.user.id } })).toBe(1);
  });

  test("sign-off only once every item on the list is decided, with the exact attestation, once", async () => {
    const co = await company();
    const c = await launched(co);
    const mine = c.items.filter((i) => i.reviewers.some((r) => r.userId === co.manager.user.id));
    await expectError(signOffCampaign(co.manager.actor, { campaignId: c.id, attestation: ATTESTATION }, ctx.client), "conflict");
    const bulk = await bulkCertify(co.manager.actor, { itemIds: mine.map((i) => i.id), decision: "keep", justification: "Reviewed with the team lead" }, ctx.client);
    // The service account's admin scope is a proposal until the campaign owner confirms it (two-person rule).
    expect(bulk.proposed).toHaveLength(1);
    await confirmItemDecision(co.admin.actor, { decisionId: bulk.proposed[0].decisionId }, ctx.client);
    await expectError(signOffCampaign(co.manager.actor, { campaignId: c.id, attestation: "yes" }, ctx.client), "bad_request", "attestation");
    const s = await signOffCampaign(co.manager.actor, { campaignId: c.id, attestation: ATTESTATION }, ctx.client);
    expect(s.itemCount).toBe(mine.length);
    expect(s.itemsSha256).toMatch(/^[0-9a-f]{64}$/);
    await expect(ctx.client.campaignSignOff.findFirstOrThrow({ where: { campaignId: c.id } })).resolves.toMatchObject({ attestation: ATTESTATION, userId: co.manager.user.id });
    await expectError(signOffCampaign(co.manager.actor, { campaignId: c.id, attestation: ATTESTATION }, ctx.client), "conflict");
  });
});

describe("close and authorization", () => {
  test("closing applies the revoke policy through the decision path and freezes the campaign", async () => {
    const co = await company();
    const c = await launched(co);
    await certifyItem(co.manager.actor, { itemId: c.byGrant(co.grants.bobRead.id).id, decision: "keep", justification: "Bob still on the team" }, ctx.client);
    const r = await closeCampaign(co.admin.actor, { campaignId: c.id }, ctx.client);
    expect(r.applied).toBe(4);
    const items = await ctx.client.campaignItem.findMany({ where: { campaignId: c.id }, include: { decisions: true } });
    for (const i of items.filter((i) => i.grantId !== co.grants.bobRead.id)) {
      expect(i).toMatchObject({ decision: "revoke", closedByPolicy: true, decidedById: co.admin.user.id });
      expect(i.decisions).toHaveLength(1);
      expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: i.grantId } })).status).toBe("revoked");
    }
    expect((await ctx.client.campaign.findUniqueOrThrow({ where: { id: c.id } })).status).toBe("closed");
    await expectError(certifyItem(co.manager.actor, { itemId: items[0].id, decision: "keep", justification: "too late now" }, ctx.client), "conflict");
    await expectError(closeCampaign(co.admin.actor, { campaignId: c.id }, ctx.client), "conflict");
  });

  test("denied calls are 403 and leave the campaign untouched", async () => {
    const co = await company();
    const c = await launched(co);
    const auditor: Actor = { kind: "user", userId: co.admin.user.id, email: "a@x.test", name: "a", roles: ["auditor"], principalId: null };
    const item = c.byGrant(co.grants.bobRead.id);
    const snapshot = async () => JSON.stringify([await ctx.client.campaign.findMany({ orderBy: { id: "asc" } }), await ctx.client.campaignItem.findMany({ orderBy: { id: "asc" } }), await ctx.client.campaignItemReviewer.count(), await ctx.client.decision.count(), await ctx.client.auditEvent.count()]);
    const before = await snapshot();
    await expectError(launchCampaign(co.manager.actor, { campaignId: c.id }, ctx.client), "forbidden");
    await expectError(closeCampaign(co.manager.actor, { campaignId: c.id }, ctx.client), "forbidden");
    await expectError(createCampaign(co.reviewer.actor, {}, ctx.client), "forbidden");
    await expectError(certifyItem(auditor, { itemId: item.id, decision: "keep", justification: "auditors only read" }, ctx.client), "forbidden");
    await expectError(certifyItem(systemActor("job"), { itemId: item.id, decision: "keep", justification: "jobs do not certify" }, ctx.client), "forbidden");
    await expectError(delegateItems(auditor, { itemIds: [item.id], toUserId: co.reviewer.user.id }, ctx.client), "forbidden");
    await expectError(signOffCampaign(auditor, { campaignId: c.id, attestation: ATTESTATION }, ctx.client), "forbidden");
    expect(await snapshot()).toBe(before);
  });
});

describe("reads", () => {
  test("the certification list is filtered, grouped and paginated in SQL; the dashboard counts match the items", async () => {
    const co = await company();
    const c = await launched(co);
    const byPerson = await listMyItems(co.manager.actor, { campaignId: c.id, groupBy: "person", perPage: 10 }, ctx.client);
    expect(byPerson.progress).toEqual({ total: 4, decided: 0, pending: 4, awaiting: 0 });
    expect(byPerson.rows.map((r) => r.principalName)).toEqual(["Alice", "Alice", "Bob", "svc"]);
    expect(new Set(byPerson.rows.map((r) => r.groupKey)).size).toBe(3);
    await certifyItem(co.manager.actor, { itemId: c.byGrant(co.grants.bobRead.id).id, decision: "keep", justification: "Bob still on the team" }, ctx.client);
    const pending = await listMyItems(co.manager.actor, { campaignId: c.id, status: "pending", q: "ali" }, ctx.client);
    expect(pending.rows.map((r) => r.principalName)).toEqual(["Alice", "Alice"]);
    const decided = await listMyItems(co.manager.actor, { campaignId: c.id, status: "decided" }, ctx.client);
    expect(decided.rows.map((r) => [r.principalName, r.decision])).toEqual([["Bob", "keep"]]);
    const page2 = await listMyItems(co.manager.actor, { campaignId: c.id, status: "all", perPage: 10, page: 2 }, ctx.client);
    expect(page2.rows).toEqual([]);
    expect(page2.total).toBe(4);

    const dash = await getCampaignDashboard(co.admin.actor, c.id, ctx.client);
    expect(dash.totals).toMatchObject({ total: 5, decided: 1, keep: 1, pending: 4, overdue: 0, ownerFallback: 1 });
    expect(dash.byReviewer.find((r) => r.reviewer === co.manager.user.name)).toMatchObject({ keep: 1, pending: 3 });
    expect(dash.completion.at(-1)).toMatchObject({ decided: 1, total: 5 });
    expect(dash.campaign.snapshotSha256).toBe(c.launch.sha256);
    // Twenty days on, past the due date, the undecided items count as overdue.
    const late = await getCampaignDashboard(co.admin.actor, c.id, ctx.client, new Date(Date.now() + 20 * DAY));
    expect(late.totals.overdue).toBe(4);
  });
});

describe("launch preview (dry run)", () => {
  test("counts what the launch creates, per reviewer and owner fallback, and writes nothing", async () => {
    const co = await company();
    const c = ctx.client;
    const created = await createCampaign(
      co.admin.actor,
      { name: "Preview 2026-Q4", period: "2026-Q4", teamIds: [co.team.id], environmentIds: [co.env.id], dueAt: new Date(Date.now() + 14 * DAY).toISOString(), reviewerRule: "manager", closePolicy: "revoke" },
      c,
    );
    const before = [await c.campaignItem.count(), await c.campaignItemReviewer.count(), await c.auditEvent.count()];
    const preview = await previewLaunch(co.admin.actor, { campaignId: created.id }, c);
    expect([await c.campaignItem.count(), await c.campaignItemReviewer.count(), await c.auditEvent.count()]).toEqual(before);
    expect((await c.campaign.findUniqueOrThrow({ where: { id: created.id } })).status).toBe("draft");
    // Only reviewers and managers preview: a reviewer is refused.
    await expectError(previewLaunch(co.reviewer.actor, { campaignId: created.id }, c), "forbidden");

    const launch = await launchCampaign(co.admin.actor, { campaignId: created.id }, c);
    expect(preview.itemCount).toBe(launch.itemCount);
    const lists = await c.campaignItemReviewer.findMany({ where: { item: { campaignId: created.id } }, include: { user: true } });
    expect(preview.ownerFallback).toBe(lists.filter((r) => r.source === "owner_fallback").length);
    expect(preview.ownerFallback).toBeGreaterThan(0); // the manager's own grant goes to the owner
    const byReviewer = new Map<string, number>();
    for (const r of lists) byReviewer.set(`${r.user.email}|${r.source}`, (byReviewer.get(`${r.user.email}|${r.source}`) ?? 0) + 1);
    expect(new Map(preview.perReviewer.map((r) => [`${r.email}|${r.source}`, r.items]))).toEqual(byReviewer);
    expect(preview.needsConfirmation).toBe(false);
    // Launched: no preview any more.
    await expectError(previewLaunch(co.admin.actor, { campaignId: created.id }, c), "bad_request", "campaignId");
  });

  test("above the threshold the launch needs the count it was shown", async () => {
    const co = await company();
    const c = ctx.client;
    const principals = await c.principal.createManyAndReturn({ data: Array.from({ length: LAUNCH_CONFIRM_ABOVE + 1 }, (_, i) => ({ kind: "user" as const, displayName: `bulk-${i}`, teamId: co.team.id })) });
    await c.grant.createMany({ data: principals.map((p) => ({ principalId: p.id, scopeId: co.scopes.read.id, environmentId: co.env.id, grantedAt: daysAgo(30) })) });
    const created = await createCampaign(
      co.admin.actor,
      { name: "Big 2026-Q4", period: "2026-Q4", teamIds: [co.team.id], environmentIds: [co.env.id], dueAt: new Date(Date.now() + 14 * DAY).toISOString(), reviewerRule: "manager", closePolicy: "revoke" },
      c,
    );
    const preview = await previewLaunch(co.admin.actor, { campaignId: created.id }, c);
    expect(preview.needsConfirmation).toBe(true);
    expect(preview.ownerFallback).toBeGreaterThanOrEqual(LAUNCH_CONFIRM_ABOVE + 1); // nobody manages the bulk principals
    // As the dashboard's launch action calls it (scheduled launches pass no threshold: nobody saw a preview).
    const asDashboard = { confirmAbove: LAUNCH_CONFIRM_ABOVE };
    await expectError(launchCampaign(co.admin.actor, { campaignId: created.id }, c, undefined, asDashboard), "conflict");
    await expectError(launchCampaign(co.admin.actor, { campaignId: created.id, confirmItemCount: preview.itemCount - 1 }, c, undefined, asDashboard), "conflict");
    expect((await c.campaign.findUniqueOrThrow({ where: { id: created.id } })).status).toBe("draft");
    const r = await launchCampaign(co.admin.actor, { campaignId: created.id, confirmItemCount: preview.itemCount }, c, undefined, asDashboard);
    expect(r.itemCount).toBe(preview.itemCount);
  });
});
