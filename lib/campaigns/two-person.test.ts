import { describe, expect, test } from "vitest";
import { updateTwoPersonRule, DEFAULT_TWO_PERSON_RULE } from "@/lib/auth/sod";
import { verifyAuditChain } from "@/lib/audit";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { useTestDatabase } from "@/test/support/use-test-database";
import { bulkCertify, certifyItem } from "./certify";
import { closeCampaign } from "./close";
import { confirmItemDecision, rejectItemProposal } from "./confirm";
import { createCampaign } from "./create";
import { launchCampaign } from "./launch";
import { listMyItems } from "./my-items";
import { getCampaignDashboard } from "./queries";
import { signOffCampaign } from "./sign-off";
import { ATTESTATION } from "./schemas";
import { appError } from "@/test/support/errors";

// The two-person rule on certification decisions (issue 7, "Separation of duties
// from the identity issue applies"), against a real database of this file's own.
// The default rule covers admin scopes in production, which is what Alice's
// orders:admin grant below is.
const ctx = useTestDatabase(4);
const DAY = 86_400_000;

async function expectError(p: Promise<unknown>, code: string, message?: RegExp | string, field?: string) {
  const e = await appError(p);
  expect(e.code).toBe(code);
  if (message) expect(e.message).toMatch(message);
  if (field) expect(e.field).toBe(field);
}

/** A manager and a reviewer (both named on the campaign), the admin who owns it, and Alice's read/write/admin grants in production. */
async function company() {
  const c = ctx.client;
  const env = await makeEnvironment(c, "production");
  for (const name of ["p-a", "p-b"]) await c.proxy.create({ data: { name: `${name}-${env.id.slice(0, 6)}`, adminUrl: "http://127.0.0.1:1", adminToken: "x".repeat(20), environmentId: env.id } });
  const team = await c.team.create({ data: { name: `team-${env.id.slice(0, 8)}` } });
  const other = await c.team.create({ data: { name: `other-${env.id.slice(0, 8)}` } });
  const { scopes } = await makeApi(c, env.id, ["read", "write", "admin"], { teamId: team.id });
  const mgrP = await makePrincipal(c, { teamId: team.id, name: "Mgr" });
  const manager = await makeReviewer(c, ["manager"], mgrP.id);
  const reviewerP = await makePrincipal(c, { teamId: other.id, name: "Rev" });
  const reviewer = await makeReviewer(c, ["reviewer"], reviewerP.id);
  const bystander = await makeReviewer(c, ["reviewer"], (await makePrincipal(c, { teamId: other.id, name: "Bystander" })).id);
  const admin = await makeReviewer(c, ["admin"]);
  const alice = await c.principal.update({ where: { id: (await makePrincipal(c, { teamId: team.id, name: "Alice" })).id }, data: { managerId: mgrP.id } });
  // A credential the reviewer owns: they may never decide on it.
  const svc = await c.principal.update({ where: { id: (await makePrincipal(c, { kind: "service_account", teamId: team.id, name: "svc" })).id }, data: { managerId: reviewerP.id } });
  const g = (principalId: string, level: "read" | "write" | "admin", lastUsedAt = daysAgo(3)) =>
    makeGrant(c, { principalId, scopeId: scopes[level].id, environmentId: env.id, lastUsedAt });
  const grants = { aliceRead: await g(alice.id, "read"), aliceWrite: await g(alice.id, "write", daysAgo(200)), aliceAdmin: await g(alice.id, "admin"), svcAdmin: await g(svc.id, "admin") };
  const finding = await c.finding.create({ data: { grantId: grants.aliceAdmin.id, rule: "over_privileged", severity: "critical", riskScore: 95, evidence: {}, suggestion: "Reduce" } });
  return { env, team, scopes, manager, reviewer, bystander, admin, alice, svc, grants, finding };
}
type Company = Awaited<ReturnType<typeof company>>;

async function launched(co: Company, named: string[] = [co.manager.user.id, co.reviewer.user.id]) {
  const created = await createCampaign(
    co.admin.actor,
    {
      name: "Orders admin access",
      period: "2026-Q4",
      teamIds: [co.team.id],
      environmentIds: [co.env.id],
      dueAt: new Date(Date.now() + 14 * DAY).toISOString(),
      reviewerRule: "named",
      namedReviewerIds: named,
      closePolicy: "revoke",
    },
    ctx.client,
  );
  await launchCampaign(co.admin.actor, { campaignId: created.id }, ctx.client);
  const items = await ctx.client.campaignItem.findMany({ where: { campaignId: created.id } });
  return { id: created.id, item: (grantId: string) => items.find((i) => i.grantId === grantId)!.id };
}

const grantStatus = async (id: string) => (await ctx.client.grant.findUniqueOrThrow({ where: { id } })).status;
const outboxRows = (decisionId: string) => ctx.client.outboxItem.count({ where: { decisionId } });
const auditCount = (action: string, itemId: string) => ctx.client.auditEvent.count({ where: { action, target: `campaign_item:${itemId}` } });
const revokeAliceAdmin = (co: Company, itemId: string) => certifyItem(co.manager.actor, { itemId, decision: "revoke", justification: "Alice left the on-call rota" }, ctx.client);

/** A launched campaign in which the manager proposed to revoke Alice's admin grant (awaiting a second reviewer). */
async function proposedRevoke() {
  const co = await company();
  const c = await launched(co);
  const itemId = c.item(co.grants.aliceAdmin.id);
  return { co, c, itemId, proposal: await revokeAliceAdmin(co, itemId) };
}

describe("proposal", () => {
  test("a revoke of a production admin scope is stored as a proposal: nothing applied, no outbox row, the item awaits a second reviewer", async () => {
    const { co, c, itemId, proposal: r } = await proposedRevoke();
    expect(r).toMatchObject({ itemId, decision: "revoke", awaitingConfirmation: true, enforcement: "proposed" });
    const d = await ctx.client.decision.findUniqueOrThrow({ where: { id: r.decisionId } });
    expect(d).toMatchObject({ campaignItemId: itemId, findingId: null, kind: "revoke", deciderId: co.manager.user.id, awaitingConfirmation: true, confirmerId: null, discard: null });
    expect(d.plannedRevokeGrantIds).toEqual([co.grants.aliceAdmin.id]);
    expect(await grantStatus(co.grants.aliceAdmin.id)).toBe("active");
    expect((await ctx.client.finding.findUniqueOrThrow({ where: { id: co.finding.id } })).status).toBe("open");
    expect(await outboxRows(r.decisionId)).toBe(0);
    expect(await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: itemId } })).toMatchObject({ decision: null, decidedById: null });
    expect(await auditCount("campaign.item_propose_revoke", itemId)).toBe(1);
    expect(await auditCount("campaign.item_revoke", itemId)).toBe(0);
    // The people who may confirm are told: the other reviewer and the owner, not the proposer.
    const told = await ctx.client.notification.findMany({ where: { kind: "campaign.awaiting_confirmation" }, select: { userId: true } });
    expect(told.map((n) => n.userId).filter((u) => [co.manager.user.id, co.reviewer.user.id, co.admin.user.id].includes(u)).sort()).toEqual([co.reviewer.user.id, co.admin.user.id].sort());

    // Nobody decides the item again while the proposal stands.
    await expectError(certifyItem(co.reviewer.actor, { itemId, decision: "keep", justification: "Alice still runs refunds" }, ctx.client), "conflict", /awaiting a second reviewer/);

    // The lists say so: the proposer waits, the other reviewer may confirm.
    const mine = await listMyItems(co.manager.actor, { campaignId: c.id, status: "awaiting" }, ctx.client);
    expect(mine.rows.map((row) => [row.id, row.proposal?.mine, row.proposal?.canConfirm])).toEqual([[itemId, true, false]]);
    expect(mine.progress).toMatchObject({ awaiting: 1, decided: 0 });
    const theirs = await listMyItems(co.reviewer.actor, { campaignId: c.id, status: "awaiting" }, ctx.client);
    expect(theirs.rows.map((row) => [row.id, row.proposal?.decision, row.proposal?.proposedBy, row.proposal?.canConfirm])).toEqual([[itemId, "revoke", co.manager.user.name, true]]);
    expect((await getCampaignDashboard(co.admin.actor, c.id, ctx.client)).totals).toMatchObject({ awaiting: 1, decided: 0, enforcing: 0 });
  });

  test("bulk certify reports the items that became proposals apart from the ones decided", async () => {
    const co = await company();
    const c = await launched(co);
    const [read, admin] = [c.item(co.grants.aliceRead.id), c.item(co.grants.aliceAdmin.id)];
    const r = await bulkCertify(co.manager.actor, { itemIds: [read, admin], decision: "revoke", justification: "Alice moved to the data team" }, ctx.client);
    expect(r.decided.map((d) => d.itemId)).toEqual([read]);
    expect(r.proposed.map((d) => [d.itemId, d.awaitingConfirmation])).toEqual([[admin, true]]);
    expect(r.failed).toEqual([]);
    expect(await grantStatus(co.grants.aliceRead.id)).toBe("revoked");
    expect(await grantStatus(co.grants.aliceAdmin.id)).toBe("active");
    expect(await outboxRows(r.decided[0].decisionId)).toBe(2);
    expect(await outboxRows(r.proposed[0].decisionId)).toBe(0);
  });

  test("a reduce on a read item that would drop the production admin scope is a proposal too; one that keeps it applies at once", async () => {
    const co = await company();
    const c = await launched(co);
    const readItem = c.item(co.grants.aliceRead.id);
    const drops = await certifyItem(co.manager.actor, { itemId: readItem, decision: "reduce", justification: "Alice only reads orders now", keepScopeIds: [co.scopes.read.id] }, ctx.client);
    expect(drops.awaitingConfirmation).toBe(true);
    expect(await grantStatus(co.grants.aliceAdmin.id)).toBe("active");
    await rejectItemProposal(co.reviewer.actor, { decisionId: drops.decisionId, justification: "Alice keeps admin for refunds" }, ctx.client);
    const keepsAdmin = await certifyItem(co.manager.actor, { itemId: readItem, decision: "reduce", justification: "Write is not needed any more", keepScopeIds: [co.scopes.read.id, co.scopes.admin.id] }, ctx.client);
    expect(keepsAdmin.awaitingConfirmation).toBe(false);
    expect([await grantStatus(co.grants.aliceWrite.id), await grantStatus(co.grants.aliceAdmin.id)]).toEqual(["revoked", "active"]);
  });

  test("with the rule switched off, the same revoke applies at once", async () => {
    const co = await company();
    const c = await launched(co);
    await updateTwoPersonRule(co.admin.actor, { ...DEFAULT_TWO_PERSON_RULE, enabled: false }, ctx.client);
    try {
      const r = await revokeAliceAdmin(co, c.item(co.grants.aliceAdmin.id));
      expect(r).toMatchObject({ awaitingConfirmation: false, enforcement: "pending" });
      expect(await grantStatus(co.grants.aliceAdmin.id)).toBe("revoked");
    } finally {
      await updateTwoPersonRule(co.admin.actor, DEFAULT_TWO_PERSON_RULE, ctx.client);
    }
  });
});

describe("confirm and reject", () => {
  test("a second reviewer confirms: applied through the decision path (grant, findings, one outbox row per proxy, item, audit)", async () => {
    const { co, c, itemId, proposal: p } = await proposedRevoke();
    const r = await confirmItemDecision(co.reviewer.actor, { decisionId: p.decisionId }, ctx.client);
    expect(r).toMatchObject({ itemId, decisionId: p.decisionId, decision: "revoke", awaitingConfirmation: false, enforcement: "pending", proposedById: co.manager.user.id });
    expect(await ctx.client.decision.findUniqueOrThrow({ where: { id: p.decisionId } })).toMatchObject({ awaitingConfirmation: false, deciderId: co.manager.user.id, confirmerId: co.reviewer.user.id, enforcement: "pending" });
    expect(await grantStatus(co.grants.aliceAdmin.id)).toBe("revoked");
    expect((await ctx.client.finding.findUniqueOrThrow({ where: { id: co.finding.id } })).status).toBe("closed");
    const outbox = await ctx.client.outboxItem.findMany({ where: { decisionId: p.decisionId } });
    expect(outbox).toHaveLength(2);
    expect(outbox[0].payload).toEqual({ idempotencyKey: p.decisionId, ops: [{ op: "delete", kind: "grant", id: co.grants.aliceAdmin.id }] });
    // The judgement is the proposer's; the confirmation is recorded beside it.
    expect(await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: itemId } })).toMatchObject({
      decision: "revoke",
      justification: "Alice left the on-call rota",
      decidedById: co.manager.user.id,
      confirmedById: co.reviewer.user.id,
    });
    expect(await auditCount("campaign.item_confirm_revoke", itemId)).toBe(1);
    await expectError(confirmItemDecision(co.reviewer.actor, { decisionId: p.decisionId }, ctx.client), "conflict");
    // The confirmer's list keeps the item they confirmed.
    const theirs = await listMyItems(co.reviewer.actor, { campaignId: c.id, status: "decided" }, ctx.client);
    expect(theirs.rows.map((row) => [row.id, row.confirmedBy])).toEqual([[itemId, co.reviewer.user.name]]);
  });

  test("the proposer cannot confirm or reject their own proposal, nor can someone off the item's list, nor anyone about their own access; nothing changes", async () => {
    const co = await company();
    const c = await launched(co, [co.manager.user.id]);
    const p = await revokeAliceAdmin(co, c.item(co.grants.aliceAdmin.id));
    await expectError(confirmItemDecision(co.manager.actor, { decisionId: p.decisionId }, ctx.client), "forbidden", /proposer/);
    await expectError(rejectItemProposal(co.manager.actor, { decisionId: p.decisionId, justification: "Changed my mind about it" }, ctx.client), "forbidden", /proposer/);
    await expectError(confirmItemDecision(co.bystander.actor, { decisionId: p.decisionId }, ctx.client), "forbidden", /reviewer of this item/);

    // svc is the reviewer's own credential: even on the item's list, they may not confirm its revoke.
    const svcItem = c.item(co.grants.svcAdmin.id);
    const svcProposal = await certifyItem(co.manager.actor, { itemId: svcItem, decision: "revoke", justification: "svc is being retired" }, ctx.client);
    await ctx.client.campaignItemReviewer.create({ data: { itemId: svcItem, userId: co.reviewer.user.id, source: "named" } });
    await expectError(confirmItemDecision(co.reviewer.actor, { decisionId: svcProposal.decisionId }, ctx.client), "forbidden", /credential you own/);
    await expectError(rejectItemProposal(co.reviewer.actor, { decisionId: svcProposal.decisionId, justification: "I still need my service" }, ctx.client), "forbidden", /credential you own/);

    for (const id of [p.decisionId, svcProposal.decisionId]) {
      expect(await ctx.client.decision.findUniqueOrThrow({ where: { id } })).toMatchObject({ awaitingConfirmation: true, confirmerId: null, discard: null });
      expect(await outboxRows(id)).toBe(0);
    }
    expect(await grantStatus(co.grants.aliceAdmin.id)).toBe("active");
    expect(await grantStatus(co.grants.svcAdmin.id)).toBe("active");
    await expectError(confirmItemDecision(co.reviewer.actor, { decisionId: "00000000-0000-4000-8000-000000000000" }, ctx.client), "not_found");
    await expectError(confirmItemDecision(co.reviewer.actor, { decisionId: "nope" }, ctx.client), "bad_request", undefined, "decisionId");

    // With the manager as the only reviewer, the campaign owner is the second person.
    const r = await confirmItemDecision(co.admin.actor, { decisionId: p.decisionId }, ctx.client);
    expect(r.awaitingConfirmation).toBe(false);
    expect(await grantStatus(co.grants.aliceAdmin.id)).toBe("revoked");
  });

  test("reject: nothing applied, the item is undecided again, the reason is kept and the proposer told; it can then be decided anew", async () => {
    const { co, c, itemId, proposal: p } = await proposedRevoke();
    await expectError(rejectItemProposal(co.reviewer.actor, { decisionId: p.decisionId, justification: "no" }, ctx.client), "bad_request", /justification/, "justification");
    await rejectItemProposal(co.reviewer.actor, { decisionId: p.decisionId, justification: "Alice is the refunds escalation contact" }, ctx.client);
    expect(await ctx.client.decision.findUniqueOrThrow({ where: { id: p.decisionId } })).toMatchObject({
      awaitingConfirmation: false,
      discard: "rejected",
      discardedById: co.reviewer.user.id,
      discardNote: "Alice is the refunds escalation contact",
      enforcement: "not_required",
    });
    expect(await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: itemId } })).toMatchObject({ decision: null });
    expect(await grantStatus(co.grants.aliceAdmin.id)).toBe("active");
    expect(await outboxRows(p.decisionId)).toBe(0);
    expect(await auditCount("campaign.item_reject_revoke", itemId)).toBe(1);
    await expect(ctx.client.notification.count({ where: { userId: co.manager.user.id, kind: "campaign.proposal_rejected" } })).resolves.toBe(1);
    const back = await listMyItems(co.manager.actor, { campaignId: c.id, status: "pending" }, ctx.client);
    expect(back.rows.find((row) => row.id === itemId)).toMatchObject({ proposal: null, lastRejection: { by: co.reviewer.user.name, note: "Alice is the refunds escalation contact" } });
    await expectError(confirmItemDecision(co.admin.actor, { decisionId: p.decisionId }, ctx.client), "conflict", /no longer waiting/);

    // A new proposal (the rejected one stays as history), confirmed by someone else.
    const again = await certifyItem(co.manager.actor, { itemId, decision: "keep", justification: "Agreed: Alice keeps refunds admin" }, ctx.client);
    expect(again.awaitingConfirmation).toBe(true);
    await confirmItemDecision(co.reviewer.actor, { decisionId: again.decisionId }, ctx.client);
    expect(await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: itemId } })).toMatchObject({ decision: "keep", confirmedById: co.reviewer.user.id });
    expect(await ctx.client.decision.count({ where: { campaignItemId: itemId } })).toBe(2);
    expect(await grantStatus(co.grants.aliceAdmin.id)).toBe("active");
  });

  test("a stale proposal is a 409 and applies nothing: the grant was revoked meanwhile, or the principal's scopes on the API changed", async () => {
    const { co, proposal: revoke } = await proposedRevoke();
    // Revoked elsewhere meanwhile (e.g. an off-boarding through SCIM).
    await ctx.client.grant.update({ where: { id: co.grants.aliceAdmin.id }, data: { status: "revoked", revokedAt: new Date() } });
    await expectError(confirmItemDecision(co.reviewer.actor, { decisionId: revoke.decisionId }, ctx.client), "conflict", /Stale proposal: the grant is now revoked/);
    expect(await ctx.client.decision.findUniqueOrThrow({ where: { id: revoke.decisionId } })).toMatchObject({ awaitingConfirmation: true, confirmerId: null });
    expect(await outboxRows(revoke.decisionId)).toBe(0);
    // A stale proposal can still be rejected.
    await rejectItemProposal(co.reviewer.actor, { decisionId: revoke.decisionId, justification: "Already revoked by the off-boarding" }, ctx.client);

    // Reduce: keep read, drop write and admin; then write is revoked elsewhere before the confirmation.
    const co2 = await company();
    const c2 = await launched(co2);
    const reduce = await certifyItem(co2.manager.actor, { itemId: c2.item(co2.grants.aliceAdmin.id), decision: "reduce", justification: "Alice only reads orders now", keepScopeIds: [co2.scopes.read.id] }, ctx.client);
    expect(reduce.awaitingConfirmation).toBe(true);
    expect((await ctx.client.decision.findUniqueOrThrow({ where: { id: reduce.decisionId } })).plannedRevokeGrantIds.sort()).toEqual([co2.grants.aliceWrite.id, co2.grants.aliceAdmin.id].sort());
    await ctx.client.grant.update({ where: { id: co2.grants.aliceWrite.id }, data: { status: "revoked", revokedAt: new Date() } });
    await expectError(confirmItemDecision(co2.reviewer.actor, { decisionId: reduce.decisionId }, ctx.client), "conflict", /scopes on .* changed since it was proposed/);
    expect(await grantStatus(co2.grants.aliceAdmin.id)).toBe("active");
  });

  test("a confirmed reduce keeps the chosen scopes, revokes the rest, and settles the campaign's items for the removed grants", async () => {
    const co = await company();
    const c = await launched(co);
    const writeItem = c.item(co.grants.aliceWrite.id);
    const p = await certifyItem(co.manager.actor, { itemId: c.item(co.grants.aliceAdmin.id), decision: "reduce", justification: "Alice only reads orders now", keepScopeIds: [co.scopes.read.id] }, ctx.client);
    await confirmItemDecision(co.reviewer.actor, { decisionId: p.decisionId }, ctx.client);
    expect([await grantStatus(co.grants.aliceRead.id), await grantStatus(co.grants.aliceWrite.id), await grantStatus(co.grants.aliceAdmin.id)]).toEqual(["active", "revoked", "revoked"]);
    expect(await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: writeItem } })).toMatchObject({ decision: "revoke", decidedById: co.manager.user.id, confirmedById: co.reviewer.user.id });
    expect(await outboxRows(p.decisionId)).toBe(2);
  });
});

describe("sign-off and close", () => {
  test("sign-off is refused while an item awaits a second reviewer, for the proposer and the other reviewers alike; allowed once confirmed", async () => {
    const co = await company();
    const c = await launched(co);
    const adminItem = c.item(co.grants.aliceAdmin.id);
    // The manager keeps read and write (applied) and svc's admin scope (a proposal: svc's owner, the reviewer, may not confirm it)...
    const rest = await bulkCertify(co.manager.actor, { itemIds: [co.grants.aliceRead.id, co.grants.aliceWrite.id, co.grants.svcAdmin.id].map((g) => c.item(g)), decision: "keep", justification: "Reviewed with the team lead" }, ctx.client);
    expect([rest.decided.length, rest.proposed.length]).toEqual([2, 1]);
    // ...and proposes to revoke Alice's admin scope.
    const p = await revokeAliceAdmin(co, adminItem);
    await expectError(signOffCampaign(co.manager.actor, { campaignId: c.id, attestation: ATTESTATION }, ctx.client), "conflict", /2 item\(s\) of yours await a second reviewer/);
    await expectError(signOffCampaign(co.reviewer.actor, { campaignId: c.id, attestation: ATTESTATION }, ctx.client), "conflict", /1 item\(s\) of yours await a second reviewer/);
    await confirmItemDecision(co.reviewer.actor, { decisionId: p.decisionId }, ctx.client);
    await expectError(signOffCampaign(co.manager.actor, { campaignId: c.id, attestation: ATTESTATION }, ctx.client), "conflict", /1 item\(s\) of yours await/);
    await confirmItemDecision(co.admin.actor, { decisionId: rest.proposed[0].decisionId }, ctx.client);
    const s = await signOffCampaign(co.manager.actor, { campaignId: c.id, attestation: ATTESTATION }, ctx.client);
    expect(s.itemCount).toBe(4);
    // The confirmer's attestation covers what they confirmed.
    const r = await signOffCampaign(co.reviewer.actor, { campaignId: c.id, attestation: ATTESTATION }, ctx.client);
    expect(r.itemCount).toBe(1);
  });

  test("closing supersedes an unconfirmed proposal and applies the close policy directly", async () => {
    const co = await company();
    const c = await launched(co);
    const itemId = c.item(co.grants.aliceAdmin.id);
    const p = await certifyItem(co.manager.actor, { itemId, decision: "keep", justification: "Alice still needs refunds admin" }, ctx.client);
    await closeCampaign(co.admin.actor, { campaignId: c.id }, ctx.client);
    expect(await ctx.client.decision.findUniqueOrThrow({ where: { id: p.decisionId } })).toMatchObject({ awaitingConfirmation: false, discard: "superseded", discardedById: null });
    expect(await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: itemId } })).toMatchObject({ decision: "revoke", closedByPolicy: true, decidedById: co.admin.user.id, confirmedById: null });
    expect(await grantStatus(co.grants.aliceAdmin.id)).toBe("revoked");
    const applied = await ctx.client.decision.findFirstOrThrow({ where: { campaignItemId: itemId, discard: null } });
    expect(applied).toMatchObject({ kind: "revoke", awaitingConfirmation: false });
    expect(await outboxRows(applied.id)).toBe(2);
    expect(await auditCount("campaign.item_proposal_superseded", itemId)).toBe(1);
    expect(await auditCount("campaign.close_revoke", itemId)).toBe(1);
    await expectError(confirmItemDecision(co.reviewer.actor, { decisionId: p.decisionId }, ctx.client), "conflict");
    // Every step above wrote its audit event in its own transaction; the chain is intact.
    expect((await verifyAuditChain(ctx.client)).ok).toBe(true);
  });
});
