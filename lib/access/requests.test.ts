import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { randomUUID } from "node:crypto";
import { issueKey } from "./credentials";
import { approveAccessRequest, denyAccessRequest, expireStaleRequests, markExpiredGrants, requestAccess, setEnvironmentMaxAccess } from "./requests";
import { accessWorld, until, type AccessWorld } from "./test-world";

// Just-in-time access against a real Postgres and the REAL proxy (child process).
let w: AccessWorld;
let key: string;

beforeAll(async () => {
  w = await accessWorld();
  key = (await issueKey(w.owner.actor, { principalId: w.sa.id }, w.client)).key;
  await until("key at the proxy", () => w.get(key), (s) => s === 403); // authenticated, no grant yet
}, 180_000);
afterAll(async () => w?.close());

const state = async () =>
  JSON.stringify(
    await Promise.all([
      w.client.accessRequest.findMany({ orderBy: { id: "asc" } }),
      w.client.grant.findMany({ orderBy: { id: "asc" } }),
      w.client.accessChange.count(),
      w.client.outboxItem.count(),
    ]),
  );

describe("request → approve → time-boxed grant at the proxy", () => {
  test("an owner asks for orders:write for their service account; a team reviewer approves; 200 at once, 403 after the end with the dashboard side stopped", { timeout: 180_000 }, async () => {
    const r = await requestAccess(w.owner.actor, { principalId: w.sa.id, apiId: w.api.id, scopeIds: [w.scopes.write.id], reason: "incident 4711: replay orders", until: new Date(Date.now() + 6_000).toISOString() }, w.client);
    expect(r).toMatchObject({ status: "pending", approvalsNeeded: 1 });
    const inbox = await w.client.notification.findMany({ where: { kind: "access.requested" } });
    expect(new Set(inbox.map((n) => n.userId))).toEqual(new Set([w.reviewer.user.id, w.reviewer2.user.id, w.manager.user.id]));

    const a = await approveAccessRequest(w.reviewer.actor, { requestId: r.requestId }, w.client);
    expect(a).toMatchObject({ status: "approved", enforcement: "pending" });
    await until("200 at the proxy", () => w.get(key), (s) => s === 200);
    const req = await w.client.accessRequest.findUniqueOrThrow({ where: { id: r.requestId } });
    await until("grant change applied", () => w.client.accessChange.findUniqueOrThrow({ where: { id: req.accessChangeId! } }), (c) => c.enforcement === "applied");
    const grant = await w.client.grant.findUniqueOrThrow({ where: { id: req.grantIds[0] } });
    expect(grant).toMatchObject({ origin: "request", accessRequestId: r.requestId, status: "active" });

    // The dashboard side stops: no delivery worker, no jobs. The proxy ends access on its own.
    await w.worker.stop();
    await until("403 after the end", () => w.get(key), (s) => s === 403);
    expect(Date.now()).toBeGreaterThanOrEqual(req.grantEndsAt!.getTime());
    // Afterwards the dashboard marks it expired, keeping both times.
    expect(await markExpiredGrants(w.client, new Date())).toBe(1);
    expect((await w.client.grant.findUniqueOrThrow({ where: { id: grant.id } })).status).toBe("expired");
    expect((await w.client.accessRequest.findUniqueOrThrow({ where: { id: r.requestId } })).expiredMarkedAt).not.toBeNull();
    const actions = (await w.client.auditEvent.findMany({ orderBy: { seq: "asc" }, select: { action: true } })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["access.request", "access.approve", "access.grant_expired"]));
    expect(await w.client.notification.count({ where: { userId: w.owner.user.id, kind: "access.approved" } })).toBe(1);
  });

  test("the access-granted report shows requester, approver, reason, start at the proxy and end, and the grant expired; no key in it", async () => {
    const pg = (await import("pg")).default;
    const { startExport } = await import("@/lib/reports/export");
    const { makeReviewer } = await import("@/lib/analysis/fixtures");
    const auditor = (await makeReviewer(w.client, ["auditor"])).actor;
    const pool = new pg.Pool({ connectionString: w.tdb.url, max: 2 });
    try {
      const result = await startExport(auditor, { report: "access-granted", format: "json", filters: {} }, { client: w.client, pool });
      const chunks: Uint8Array[] = [];
      const reader = result.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
      }
      const text = Buffer.concat(chunks).toString("utf8");
      expect(text).not.toContain(key.split("_")[2]);
      const parsed = JSON.parse(text) as { rows?: Record<string, unknown>[] } | Record<string, unknown>[];
      const rows = Array.isArray(parsed) ? parsed : (parsed.rows ?? []);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ requester: w.owner.user.email, approvers: w.reviewer.user.email, reason: "incident 4711: replay orders", scope: w.scopes.write.name, enforcement: "applied", grantStatus: "expired" });
      expect(rows[0].startedAtProxy).toBeTruthy();
      expect(rows[0].endsAt).toBeTruthy();
      expect(rows[0].expiredMarkedAt).toBeTruthy();
    } finally {
      await pool.end();
    }
  });
});

describe("refusals (each leaves everything unchanged)", () => {
  const base = () => ({ principalId: w.sa.id, apiId: w.api.id, scopeIds: [w.scopes.read.id], reason: "need it", duration: "1h" });

  test("self-approval is 403", async () => {
    const mine = await requestAccess(w.reviewer.actor, { apiId: w.api.id, scopeIds: [w.scopes.read.id], reason: "on call", duration: "8h" }, w.client);
    const before = await state();
    await expect(approveAccessRequest(w.reviewer.actor, { requestId: mine.requestId }, w.client)).rejects.toMatchObject({ status: 403 });
    await expect(denyAccessRequest(w.reviewer.actor, { requestId: mine.requestId, reason: "no" }, w.client)).rejects.toMatchObject({ status: 403 });
    expect(await state()).toBe(before);
  });

  test("approval by the owner of the service account the access is for is 403", async () => {
    const sa2 = await w.client.principal.create({ data: { kind: "service_account", displayName: "sa2", teamId: w.team.id, managerId: w.reviewer2.actor.principalId, homeEnvironmentId: w.env.id } });
    const r = await requestAccess(w.reviewer2.actor, { ...base(), principalId: sa2.id }, w.client);
    // Ownership moves to another team reviewer before anyone decides: that person is now concerned.
    await w.client.principal.update({ where: { id: sa2.id }, data: { managerId: w.reviewer.actor.principalId } });
    const before = await state();
    await expect(approveAccessRequest(w.reviewer.actor, { requestId: r.requestId }, w.client)).rejects.toMatchObject({ status: 403 });
    expect(await state()).toBe(before);
  });

  test("someone outside the API's owning team is 403", async () => {
    const r = await requestAccess(w.owner.actor, base(), w.client);
    const before = await state();
    await expect(approveAccessRequest(w.outsider.actor, { requestId: r.requestId }, w.client)).rejects.toMatchObject({ status: 403 });
    // Admins are only the fallback when the team has no approver.
    await expect(approveAccessRequest(w.admin.actor, { requestId: r.requestId }, w.client)).rejects.toMatchObject({ status: 403 });
    expect(await state()).toBe(before);
  });

  test("two-person rule: admin scope in production needs two distinct approvers", async () => {
    const r = await requestAccess(w.owner.actor, { ...base(), scopeIds: [w.scopes.admin.id] }, w.client);
    expect(r.approvalsNeeded).toBe(2);
    expect(await approveAccessRequest(w.reviewer.actor, { requestId: r.requestId }, w.client)).toMatchObject({ status: "pending", approvals: 1 });
    const before = await state();
    await expect(approveAccessRequest(w.reviewer.actor, { requestId: r.requestId }, w.client)).rejects.toMatchObject({ status: 403 });
    expect(await state()).toBe(before);
    const done = await approveAccessRequest(w.reviewer2.actor, { requestId: r.requestId }, w.client);
    expect(done).toMatchObject({ status: "approved", approvals: 2 });
    const grants = await w.client.grant.findMany({ where: { accessRequestId: r.requestId } });
    expect(grants).toHaveLength(1);
    expect(grants[0].expiresAt).not.toBeNull();
  });

  test("a request over the environment's maximum is refused with the limit named", async () => {
    await setEnvironmentMaxAccess(w.admin.actor, { environmentId: w.env.id, maxAccessHours: 24 }, w.client);
    const before = await state();
    await expect(requestAccess(w.owner.actor, { ...base(), duration: "7d" }, w.client)).rejects.toMatchObject({ status: 400, field: "duration", message: expect.stringContaining("24 hours") });
    await expect(requestAccess(w.owner.actor, { ...base(), duration: undefined, until: new Date(Date.now() + 2 * 86_400_000).toISOString() }, w.client)).rejects.toMatchObject({ status: 400, field: "until" });
    expect(await state()).toBe(before);
    await expect(setEnvironmentMaxAccess(w.reviewer.actor, { environmentId: w.env.id, maxAccessHours: 1000 }, w.client)).rejects.toMatchObject({ status: 403 });
    await setEnvironmentMaxAccess(w.admin.actor, { environmentId: w.env.id, maxAccessHours: null }, w.client);
  });

  test("malformed requests are 400 naming the field", async () => {
    const before = await state();
    const cases: [Record<string, unknown>, string][] = [
      [{ scopeIds: [randomUUID()] }, "scopeIds"],
      [{ scopeIds: [w.scopes.read.id, w.scopes.read.id] }, "scopeIds"],
      [{ duration: undefined, until: "2020-01-01T00:00:00Z" }, "until"],
      [{ reason: "" }, "reason"],
      [{ reason: "   " }, "reason"],
      [{ reason: "x".repeat(10_240) }, "reason"],
      [{ reason: undefined }, "reason"],
      [{ duration: "2w" }, "duration"],
      [{ duration: undefined }, "duration"],
      [{ apiId: "not-a-uuid" }, "apiId"],
    ];
    for (const [patch, field] of cases) {
      await expect(requestAccess(w.owner.actor, { ...base(), ...patch }, w.client), JSON.stringify(patch).slice(0, 80)).rejects.toMatchObject({ status: 400, field });
    }
    // Someone else's service account: 403.
    await expect(requestAccess(w.outsider.actor, base(), w.client)).rejects.toMatchObject({ status: 403 });
    expect(await state()).toBe(before);
  });

  test("a denial needs a reason; with one the requester is told", async () => {
    const r = await requestAccess(w.owner.actor, base(), w.client);
    await expect(denyAccessRequest(w.manager.actor, { requestId: r.requestId, reason: "" }, w.client)).rejects.toMatchObject({ status: 400, field: "reason" });
    expect(await denyAccessRequest(w.manager.actor, { requestId: r.requestId, reason: "use the read replica" }, w.client)).toMatchObject({ status: "denied" });
    await expect(approveAccessRequest(w.reviewer.actor, { requestId: r.requestId }, w.client)).rejects.toMatchObject({ status: 409 });
    expect(await w.client.notification.count({ where: { userId: w.owner.user.id, kind: "access.denied" } })).toBe(1);
  });

  test("requests unanswered for 7 days expire; newer ones stay", async () => {
    const old = await requestAccess(w.owner.actor, base(), w.client);
    await w.client.accessRequest.update({ where: { id: old.requestId }, data: { createdAt: new Date(Date.now() - 8 * 86_400_000) } });
    const fresh = await requestAccess(w.owner.actor, base(), w.client);
    expect(await expireStaleRequests(w.client, new Date())).toBeGreaterThanOrEqual(1);
    expect((await w.client.accessRequest.findUniqueOrThrow({ where: { id: old.requestId } })).status).toBe("expired");
    expect((await w.client.accessRequest.findUniqueOrThrow({ where: { id: fresh.requestId } })).status).toBe("pending");
    await expect(approveAccessRequest(w.reviewer.actor, { requestId: old.requestId }, w.client)).rejects.toMatchObject({ status: 409 });
  });
});

describe("inbox and my requests (server-driven, SQL-paged)", () => {
  test("the team reviewer's inbox holds the team's pending requests but not their own; outsiders see none; requesters see theirs", async () => {
    const { listApprovalInbox, listMyRequests, requestListParams } = await import("./queries");
    const r = await requestAccess(w.owner.actor, { principalId: w.sa.id, apiId: w.api.id, scopeIds: [w.scopes.read.id], reason: "inbox check", duration: "1h" }, w.client);
    const own = await requestAccess(w.reviewer.actor, { apiId: w.api.id, scopeIds: [w.scopes.read.id], reason: "mine", duration: "1h" }, w.client);
    const params = requestListParams.parse({});
    const inbox = await listApprovalInbox(w.reviewer.actor, params, w.client);
    const ids = inbox.rows.map((x) => x.id);
    expect(ids).toContain(r.requestId);
    expect(ids).not.toContain(own.requestId);
    expect(inbox.rows.find((x) => x.id === r.requestId)).toMatchObject({ status: "pending", scopes: [w.scopes.read.name], reason: "inbox check" });
    expect((await listApprovalInbox(w.outsider.actor, params, w.client)).rows).toHaveLength(0);
    const mine = await listMyRequests(w.owner.actor, requestListParams.parse({ status: "all" }), w.client);
    expect(mine.rows.map((x) => x.id)).toContain(r.requestId);
    expect(mine.rows.every((x) => x.requester === w.owner.user.name)).toBe(true);
    expect(requestListParams.parse({ page: "-3", status: "bogus" })).toEqual({ page: 1, status: "pending" });
  });
});

test("a campaign snapshot records how each grant came to exist", async () => {
  const { createCampaign } = await import("@/lib/campaigns/create");
  const { launchCampaign } = await import("@/lib/campaigns/launch");
  const { makeGrant } = await import("@/lib/analysis/fixtures");
  const seeded = await makeGrant(w.client, { principalId: w.outsider.actor.principalId!, scopeId: w.scopes.read.id, environmentId: w.env.id });
  await w.client.grant.update({ where: { id: seeded.id }, data: { origin: "seed" } });
  const created = await createCampaign(
    w.admin.actor,
    { name: "Origins 2026-Q4", period: "2026-Q4", apiIds: [w.api.id], environmentIds: [], teamIds: [], dueAt: new Date(Date.now() + 14 * 86_400_000).toISOString(), reviewerRule: "owning_team", namedReviewerIds: [], closePolicy: "keep_and_flag" },
    w.client,
  );
  await launchCampaign(w.admin.actor, { campaignId: created.id }, w.client);
  const items = await w.client.campaignItem.findMany({ where: { campaignId: created.id }, select: { grantId: true, grantOrigin: true } });
  const fromRequest = await w.client.grant.findMany({ where: { origin: "request", status: "active" }, select: { id: true } });
  expect(fromRequest.length).toBeGreaterThan(0);
  for (const g of fromRequest) expect(items.find((i) => i.grantId === g.id)?.grantOrigin).toBe("request");
  expect(items.find((i) => i.grantId === seeded.id)?.grantOrigin).toBe("seed");
});
