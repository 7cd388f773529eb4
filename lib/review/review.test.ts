import { afterAll, beforeAll, describe, expect, test } from "vitest";
import pg from "pg";
import { createDb, type PrismaClient } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { approveFinding, assignFinding, bulkRevoke, claimFinding, confirmDecision, reduceGrant, revokeGrant } from "./index";
import { expectError } from "@/test/support/errors";

let tdb: TestDatabase;
let client: PrismaClient;
let reviewer: Awaited<ReturnType<typeof makeReviewer>>;
let reviewer2: Awaited<ReturnType<typeof makeReviewer>>;
let env: { prod: string; stage: string };
let api: Awaited<ReturnType<typeof makeApi>>;
let stageApi: Awaited<ReturnType<typeof makeApi>>;

async function openFinding(level: "read" | "write" | "admin" = "read", o: { principalId?: string; lastUsedAt?: Date | null; stage?: boolean; rule?: "dormant" | "over_privileged" } = {}) {
  const principalId = o.principalId ?? (await makePrincipal(client)).id;
  const a = o.stage ? stageApi : api;
  const grant = await makeGrant(client, { principalId, scopeId: a.scopes[level].id, environmentId: o.stage ? env.stage : env.prod, lastUsedAt: o.lastUsedAt ?? daysAgo(200) });
  const finding = await client.finding.create({
    data: { grantId: grant.id, rule: o.rule ?? "dormant", severity: "medium", riskScore: 50, evidence: {}, suggestion: "Revoke" },
  });
  return { grant, finding, principalId };
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 6);
  const prod = await makeEnvironment(client, "production");
  const stage = await makeEnvironment(client, "staging");
  env = { prod: prod.id, stage: stage.id };
  api = await makeApi(client, prod.id);
  stageApi = await makeApi(client, stage.id);
  // Two proxies serve production, one staging: a production decision has two targets.
  for (const [name, environmentId] of [["prod-a", prod.id], ["prod-b", prod.id], ["stage-a", stage.id]] as const) {
    await client.proxy.create({ data: { name, adminUrl: "http://127.0.0.1:1", adminToken: "x".repeat(20), environmentId } });
  }
  reviewer = await makeReviewer(client);
  reviewer2 = await makeReviewer(client);
});

afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

describe("decisions", () => {
  test("revoke writes the decision, the revoked grant, the finding, an audit event and one outbox row per proxy of the environment", async () => {
    const { grant, finding } = await openFinding("read");
    const other = await client.finding.create({ data: { grantId: grant.id, rule: "never_used", severity: "low", riskScore: 10, evidence: {}, suggestion: "x" } });
    const r = await revokeGrant(reviewer.actor, { findingId: finding.id }, client);
    expect(r).toMatchObject({ kind: "revoke", awaitingConfirmation: false, enforcement: "pending" });
    const g = await client.grant.findUniqueOrThrow({ where: { id: grant.id } });
    expect(g.status).toBe("revoked");
    expect(g.revokedAt).not.toBeNull();
    expect((await client.finding.findUniqueOrThrow({ where: { id: finding.id } })).status).toBe("revoked");
    expect((await client.finding.findUniqueOrThrow({ where: { id: other.id } })).status).toBe("closed");
    const outbox = await client.outboxItem.findMany({ where: { decisionId: r.decisionId }, include: { proxy: true } });
    expect(outbox.map((o) => o.proxy?.name).sort()).toEqual(["prod-a", "prod-b"]);
    expect(outbox[0].payload).toEqual({ idempotencyKey: r.decisionId, ops: [{ op: "delete", kind: "grant", id: grant.id }] });
    const audit = await client.auditEvent.findFirstOrThrow({ where: { action: "decision.revoke", target: `finding:${finding.id}` } });
    expect(audit.actor).toBe(reviewer.actor.email);
  });

  test("approve needs a justification, suppresses until the re-review date and needs no enforcement", async () => {
    const { finding } = await openFinding("read");
    await expectError(approveFinding(reviewer.actor, { findingId: finding.id, justification: "" }, client), "bad_request", "justification");
    await expectError(
      approveFinding(reviewer.actor, { findingId: finding.id, justification: "needed for the quarterly export", reReviewAt: "2001-01-01" }, client),
      "bad_request",
      "reReviewAt",
    );
    const reReviewAt = new Date(Date.now() + 60 * 86_400_000);
    const r = await approveFinding(reviewer.actor, { findingId: finding.id, justification: "needed for the quarterly export", reReviewAt }, client);
    expect(r.enforcement).toBe("not_required");
    const f = await client.finding.findUniqueOrThrow({ where: { id: finding.id } });
    expect([f.status, f.reReviewAt?.toISOString()]).toEqual(["approved", reReviewAt.toISOString()]);
    expect(await client.outboxItem.count({ where: { decisionId: r.decisionId } })).toBe(0);
  });

  test("reduce keeps the used scopes by default and revokes the rest of the principal's scopes on that API", async () => {
    const p = await makePrincipal(client);
    const read = await makeGrant(client, { principalId: p.id, scopeId: api.scopes.read.id, environmentId: env.prod, lastUsedAt: daysAgo(1) });
    const { grant: write, finding } = await openFinding("write", { principalId: p.id, rule: "over_privileged" });
    const r = await reduceGrant(reviewer.actor, { findingId: finding.id }, client);
    const d = await client.decision.findUniqueOrThrow({ where: { id: r.decisionId } });
    expect(d.keptScopeIds).toEqual([api.scopes.read.id]);
    expect((await client.grant.findUniqueOrThrow({ where: { id: write.id } })).status).toBe("revoked");
    expect((await client.grant.findUniqueOrThrow({ where: { id: read.id } })).status).toBe("active");
    expect((await client.finding.findUniqueOrThrow({ where: { id: finding.id } })).status).toBe("reduced");
  });

  test("reduce refuses a scope the principal does not hold, and keeping nothing", async () => {
    const { finding } = await openFinding("write", { lastUsedAt: daysAgo(200) });
    await expectError(reduceGrant(reviewer.actor, { findingId: finding.id, keepScopeIds: [api.scopes.admin.id] }, client), "bad_request", "keepScopeIds");
    await expectError(reduceGrant(reviewer.actor, { findingId: finding.id }, client), "bad_request", "keepScopeIds");
    expect((await client.finding.findUniqueOrThrow({ where: { id: finding.id } })).status).toBe("open");
  });

  test("a finding already decided is a conflict, and of two simultaneous decisions exactly one wins", async () => {
    const { finding } = await openFinding("read");
    const results = await Promise.allSettled([
      revokeGrant(reviewer.actor, { findingId: finding.id }, client),
      approveFinding(reviewer2.actor, { findingId: finding.id, justification: "still needed by the team" }, client),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((rejected.reason as AppError).code).toBe("conflict");
    expect(await client.decision.count({ where: { findingId: finding.id } })).toBe(1);
    await expectError(revokeGrant(reviewer.actor, { findingId: finding.id }, client), "conflict");
  });

  test("only reviewers decide; nobody decides on their own grant", async () => {
    const { finding, principalId } = await openFinding("read");
    const auditor = await makeReviewer(client, ["auditor"]);
    await expectError(revokeGrant(auditor.actor, { findingId: finding.id }, client), "forbidden");
    const self = await makeReviewer(client, ["reviewer"], principalId);
    await expectError(revokeGrant(self.actor, { findingId: finding.id }, client), "forbidden");
    expect(await client.decision.count({ where: { findingId: finding.id } })).toBe(0);
    expect((await client.finding.findUniqueOrThrow({ where: { id: finding.id } })).status).toBe("open");
  });

  test("two-person rule: an admin scope in production waits for a different reviewer before anything changes", async () => {
    const { grant, finding } = await openFinding("admin");
    const r = await revokeGrant(reviewer.actor, { findingId: finding.id }, client);
    // A proposal is a state of its own: nothing to deliver, so never "pending" (migration 0023).
    expect(r).toMatchObject({ awaitingConfirmation: true, enforcement: "proposed" });
    expect((await client.decision.findUniqueOrThrow({ where: { id: r.decisionId } })).enforcement).toBe("proposed");
    expect((await client.grant.findUniqueOrThrow({ where: { id: grant.id } })).status).toBe("active");
    expect(await client.outboxItem.count({ where: { decisionId: r.decisionId } })).toBe(0);
    await expectError(revokeGrant(reviewer2.actor, { findingId: finding.id }, client), "conflict");
    await expectError(confirmDecision(reviewer.actor, { decisionId: r.decisionId }, client), "forbidden");
    const c = await confirmDecision(reviewer2.actor, { decisionId: r.decisionId }, client);
    expect(c).toMatchObject({ awaitingConfirmation: false, enforcement: "pending" });
    expect((await client.grant.findUniqueOrThrow({ where: { id: grant.id } })).status).toBe("revoked");
    const d = await client.decision.findUniqueOrThrow({ where: { id: r.decisionId } });
    expect([d.deciderId, d.confirmerId]).toEqual([reviewer.user.id, reviewer2.user.id]);
    expect(await client.outboxItem.count({ where: { decisionId: r.decisionId } })).toBe(2);
    // An admin scope outside production needs one reviewer only.
    const staged = await openFinding("admin", { stage: true });
    expect((await revokeGrant(reviewer.actor, { findingId: staged.finding.id }, client)).awaitingConfirmation).toBe(false);
  });

  test("two-person rule: a reduce that would drop a production admin scope waits too, and a stale proposal is refused", async () => {
    const p = await makePrincipal(client);
    await makeGrant(client, { principalId: p.id, scopeId: api.scopes.read.id, environmentId: env.prod, lastUsedAt: daysAgo(1) });
    const admin = await makeGrant(client, { principalId: p.id, scopeId: api.scopes.admin.id, environmentId: env.prod, lastUsedAt: daysAgo(300) });
    const { grant: write, finding } = await openFinding("write", { principalId: p.id, rule: "over_privileged" });
    const r = await reduceGrant(reviewer.actor, { findingId: finding.id, keepScopeIds: [api.scopes.read.id] }, client);
    expect(r.awaitingConfirmation).toBe(true);
    expect((await client.grant.findUniqueOrThrow({ where: { id: admin.id } })).status).toBe("active");
    expect((await client.decision.findUniqueOrThrow({ where: { id: r.decisionId } })).plannedRevokeGrantIds.sort()).toEqual([admin.id, write.id].sort());
    // Meanwhile the principal gains another scope on the API: confirming would now revoke more than the proposer saw.
    const extra = await client.scope.create({ data: { apiId: api.api.id, name: `extra-${Date.now()}`, level: "read" } });
    await makeGrant(client, { principalId: p.id, scopeId: extra.id, environmentId: env.prod, lastUsedAt: daysAgo(2) });
    await expectError(confirmDecision(reviewer2.actor, { decisionId: r.decisionId }, client), "conflict");
    expect((await client.grant.findUniqueOrThrow({ where: { id: admin.id } })).status).toBe("active");
    expect((await client.finding.findUniqueOrThrow({ where: { id: finding.id } })).status).toBe("open");
  });

  test("nothing is half-written when the transaction fails at its last write", async () => {
    const { grant, finding } = await openFinding("read");
    const counts = async () => ({
      decisions: await client.decision.count(),
      outbox: await client.outboxItem.count(),
      audit: await client.auditEvent.count(),
      grant: (await client.grant.findUniqueOrThrow({ where: { id: grant.id } })).status,
      finding: (await client.finding.findUniqueOrThrow({ where: { id: finding.id } })).status,
    });
    const before = await counts();
    // A real database failure after the grant, finding, decision and outbox writes: the audit append is refused.
    const c = new pg.Client({ connectionString: tdb.url });
    await c.connect();
    await c.query(`CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`);
    await c.query(`CREATE TRIGGER fail_audit BEFORE INSERT ON "AuditEvent" FOR EACH ROW EXECUTE FUNCTION fail_audit()`);
    try {
      await expect(revokeGrant(reviewer.actor, { findingId: finding.id }, client)).rejects.toThrow(/disk full/);
    } finally {
      await c.query(`DROP TRIGGER fail_audit ON "AuditEvent"`);
      await c.end();
    }
    expect(await counts()).toEqual(before);
    expect(before.grant).toBe("active");
    // And once the failure is gone the same decision goes through.
    await revokeGrant(reviewer.actor, { findingId: finding.id }, client);
  });

  test("bulk revoke decides each finding on its own and reports the ones decided meanwhile", async () => {
    const items = [await openFinding("read"), await openFinding("read"), await openFinding("read")];
    await revokeGrant(reviewer2.actor, { findingId: items[1].finding.id }, client);
    const r = await bulkRevoke(reviewer.actor, { findingIds: items.map((i) => i.finding.id) }, client);
    expect(r.decided.map((d) => d.findingId).sort()).toEqual([items[0].finding.id, items[2].finding.id].sort());
    expect(r.failed).toEqual([expect.objectContaining({ findingId: items[1].finding.id, code: "conflict" })]);
    await expectError(bulkRevoke(reviewer.actor, { findingIds: [] }, client), "bad_request", "findingIds");
  });

  test("claim and assign", async () => {
    const { finding } = await openFinding("read");
    expect(await claimFinding(reviewer.actor, { findingId: finding.id }, client)).toEqual({ findingId: finding.id, assigneeId: reviewer.user.id });
    await expectError(claimFinding(reviewer2.actor, { findingId: finding.id }, client), "conflict");
    await assignFinding(reviewer.actor, { findingId: finding.id, assigneeId: reviewer2.user.id }, client);
    expect((await client.finding.findUniqueOrThrow({ where: { id: finding.id } })).assigneeId).toBe(reviewer2.user.id);
    const auditor = await makeReviewer(client, ["auditor"]);
    await expectError(assignFinding(reviewer.actor, { findingId: finding.id, assigneeId: auditor.user.id }, client), "bad_request", "assigneeId");
  });
});
