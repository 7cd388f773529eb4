import { beforeAll, describe, expect, it } from "vitest";
import { useAppDatabase } from "@/test/support/use-test-database";
import { PERMISSIONS, ROLES, systemActor, type Actor, type Permission, type Role } from "@/lib/auth/actor";

// Issue 6 acceptance: every role (and a service token without the scope) against
// every authorizing lib function that server actions, route handlers, exports and
// jobs wrap. Expected outcome comes from PERMISSIONS itself, so the matrix is the spec.
// A denied call must be a 403 AppError and leave every table byte-for-byte unchanged.

const ctx = useAppDatabase();
const uuid = "00000000-0000-4000-8000-00000000abcd";

type Call = { name: string; permission: Permission; run: (a: Actor) => Promise<unknown> };
let calls: Call[] = [];
let otherScopeToken = "";
type Handler = (req: Request, ctx: unknown) => Promise<Response>;
let routes: { name: string; scope: string; handler: Handler; method: string; url: string; body?: string }[] = [];

async function checksum(skip: string[] = []): Promise<string> {
  const tables = await ctx.client.$queryRawUnsafe<{ t: string }[]>(
    `SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const parts: string[] = [];
  for (const { t } of tables.filter(({ t }) => !skip.includes(t))) {
    const [row] = await ctx.client.$queryRawUnsafe<{ n: bigint; sum: string | null }[]>(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS sum FROM "${t}" x`,
    );
    parts.push(`${t}:${row.n}:${row.sum}`);
  }
  return parts.join("|");
}

function userActor(role: Role): Actor {
  return { kind: "user", userId: `00000000-0000-4000-8000-00000000000${ROLES.indexOf(role) + 1}`, email: `${role}@matrix.test`, name: role, roles: [role], principalId: null };
}
const noScopeToken: Actor = { kind: "service", tokenId: uuid, name: "no-scope", scopes: [] };

beforeAll(async () => {
  const { seedDemo } = await import("@/lib/seed");
  await seedDemo(ctx.client);

  const review = await import("@/lib/review");
  const { approveFinding, revokeGrant, reduceGrant, confirmDecision } = await import("@/lib/review/decide");
  const { claimFinding, assignFinding } = await import("@/lib/review/assign");
  const { bulkApprove, bulkRevoke, bulkReduce } = await import("@/lib/review/bulk");
  const { listQueue, decisionStates, queueFilterOptions } = await import("@/lib/review/queue");
  const { getFindingDetail } = await import("@/lib/review/detail");
  const { retryEnforcement } = await import("@/lib/enforcement/retry");
  const proxies = await import("@/lib/enforcement/proxies");
  const { applyAccessImport, planAccessImport } = await import("@/lib/access-import");
  const { listImportTargets, setImportAutoRollback } = await import("@/lib/access-import/sources");
  const { buildProxySnapshot } = await import("@/lib/enforcement/snapshot");
  const { createServiceToken, revokeServiceToken } = await import("@/lib/auth/service-tokens");
  const { createTokenFromForm, listServiceTokens } = await import("@/lib/auth/token-admin");
  const { updateTwoPersonRule } = await import("@/lib/auth/sod");
  const { planImport, applyImport } = await import("@/lib/discovery");
  const { setScopeLevel } = await import("@/lib/discovery/openapi/scope-level");
  const shadow = await import("@/lib/discovery/shadow");
  const zombies = await import("@/lib/discovery/zombies");
  const endpointFindings = await import("@/lib/discovery/endpoint-findings");
  const { listAuditEvents, verifyAuditChainAs } = await import("@/lib/audit/query");
  const { auditKeyInfo } = await import("@/lib/audit/key-info");
  const { ingestUsageReport } = await import("@/lib/usage/ingest");
  const { getSettings, updateSettings } = await import("@/lib/settings");
  const { runAnalysis, latestAnalysisRun } = await import("@/lib/analysis/run");
  const scimUsers = await import("@/lib/scim/users");
  const scimGroups = await import("@/lib/scim/groups");
  const reports = await import("@/lib/reports");
  const inv = { ...(await import("@/lib/inventory/apis")), ...(await import("@/lib/inventory/grants")), ...(await import("@/lib/inventory/overview")), ...(await import("@/lib/inventory/principals")) };
  void review;
  const campaigns = await import("@/lib/campaigns");
  const remediation = await import("@/lib/remediation");
  const { markNotificationsRead, listNotifications } = await import("@/lib/notifications");
  const access = { ...(await import("@/lib/access/credentials")), ...(await import("@/lib/access/service-accounts")), ...(await import("@/lib/access/requests")), ...(await import("@/lib/access/queries")) };

  // Real ids where they matter, so an allowed call gets past lookups and a denied one
  // would have had something to change.
  await runAnalysis(systemActor("matrix-setup"));
  const finding = await ctx.client.finding.findFirstOrThrow({ where: { status: "open" } });
  const proxy = await ctx.client.proxy.findFirst();
  const doc = JSON.stringify({ openapi: "3.0.0", info: { title: "m", version: "1" }, paths: { "/x": { get: { responses: { 200: { description: "ok" } } } } } });
  const importInput = { apiName: "matrix", environment: "production", document: Buffer.from(doc), filename: "m.json" };
  const kong = '_format_version: "3.0"\nconsumers:\n  - username: matrix-consumer\n';
  const accessInput = { format: "kong" as const, environment: "production", file: Buffer.from(kong), filename: "kong.yml" };
  const B = "http://localhost/scim/v2";
  // A draft and a launched campaign to aim the campaign calls at.
  const admin = await ctx.client.user.findUniqueOrThrow({ where: { email: "admin@tollgate.test" } });
  const adminActor: Actor = { kind: "user", userId: admin.id, email: admin.email, name: admin.name, roles: ["admin"], principalId: admin.principalId };
  const campaignInput = { name: "matrix campaign", period: "2026-Q4", dueAt: new Date(Date.now() + 7 * 86_400_000).toISOString(), reviewerRule: "manager", closePolicy: "revoke" };
  const draft = await campaigns.createCampaign(adminActor, campaignInput);
  const live = await campaigns.createCampaign(adminActor, { ...campaignInput, teamIds: [(await ctx.client.team.findUniqueOrThrow({ where: { name: "Checkout" } })).id] });
  await campaigns.launchCampaign(adminActor, { campaignId: live.id });
  // Item ids are unknown (404 once authorized): ownership of real items is covered in lib/campaigns/campaigns.test.ts.
  const someone = await ctx.client.user.findUniqueOrThrow({ where: { email: "reviewer@tollgate.test" } });
  const scimUser = { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "matrix@x.test", active: true };

  otherScopeToken = (await createServiceToken(systemActor("matrix-setup"), { name: "other-scope", scopes: ["proxy:sync"] })).token;
  const scim = await import("@/app/scim/v2/[[...path]]/route");
  const usageRoute = await import("@/app/api/v1/usage/route");
  const importRoute = await import("@/app/api/v1/imports/openapi/route");
  const accessRoute = await import("@/app/api/v1/imports/access/route");
  const reportRoute = await import("@/app/api/v1/reports/[report]/route");
  const keysRoute = await import("@/app/api/v1/keys/route");
  const S = "http://localhost/scim/v2";
  const userJson = JSON.stringify(scimUser);
  routes = [
    { name: "POST /api/v1/usage", scope: "usage:ingest", handler: usageRoute.POST as Handler, method: "POST", url: "http://localhost/api/v1/usage", body: JSON.stringify({ proxy: "matrix", entries: [] }) },
    { name: "POST /api/v1/imports/openapi", scope: "imports:write", handler: importRoute.POST as Handler, method: "POST", url: "http://localhost/api/v1/imports/openapi?api=matrix&env=production", body: doc },
    { name: "POST /api/v1/imports/access", scope: "imports:write", handler: accessRoute.POST as Handler, method: "POST", url: "http://localhost/api/v1/imports/access?env=production&dryRun=1", body: kong },
    { name: "GET /api/v1/reports/:report", scope: "reports:export", handler: ((req: Request) => reportRoute.GET(req, { params: Promise.resolve({ report: "inventory" }) })) as Handler, method: "GET", url: "http://localhost/api/v1/reports/inventory?format=csv" },
    { name: "POST /api/v1/keys", scope: "credentials:manage", handler: keysRoute.POST as Handler, method: "POST", url: "http://localhost/api/v1/keys", body: JSON.stringify({ principalId: uuid }) },
    { name: "POST /scim/v2/Users", scope: "scim", handler: scim.POST as Handler, method: "POST", url: `${S}/Users`, body: userJson },
    { name: "PUT /scim/v2/Users/:id", scope: "scim", handler: scim.PUT as Handler, method: "PUT", url: `${S}/Users/${uuid}`, body: userJson },
    { name: "PATCH /scim/v2/Users/:id", scope: "scim", handler: scim.PATCH as Handler, method: "PATCH", url: `${S}/Users/${uuid}`, body: JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", path: "active", value: false }] }) },
    { name: "DELETE /scim/v2/Users/:id", scope: "scim", handler: scim.DELETE as Handler, method: "DELETE", url: `${S}/Users/${uuid}` },
    { name: "POST /scim/v2/Groups", scope: "scim", handler: scim.POST as Handler, method: "POST", url: `${S}/Groups`, body: JSON.stringify({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "matrix" }) },
    { name: "DELETE /scim/v2/Groups/:id", scope: "scim", handler: scim.DELETE as Handler, method: "DELETE", url: `${S}/Groups/${uuid}` },
  ];

  calls = [
    { name: "createCampaign", permission: "campaigns:manage", run: (a) => campaigns.createCampaign(a, campaignInput) },
    { name: "launchCampaign", permission: "campaigns:manage", run: (a) => campaigns.launchCampaign(a, { campaignId: draft.id }) },
    { name: "closeCampaign", permission: "campaigns:manage", run: (a) => campaigns.closeCampaign(a, { campaignId: uuid }) },
    { name: "campaignFormOptions", permission: "campaigns:manage", run: (a) => campaigns.campaignFormOptions(a) },
    { name: "listCampaigns", permission: "campaigns:read", run: (a) => campaigns.listCampaigns(a) },
    { name: "getCampaignDashboard", permission: "campaigns:read", run: (a) => campaigns.getCampaignDashboard(a, live.id) },
    { name: "certifyItem", permission: "campaigns:certify", run: (a) => campaigns.certifyItem(a, { itemId: uuid, decision: "revoke", justification: "matrix test justification" }) },
    { name: "bulkCertify", permission: "campaigns:certify", run: (a) => campaigns.bulkCertify(a, { itemIds: [uuid], decision: "revoke", justification: "matrix test justification" }) },
    // Two-person rule: an unknown proposal is a 404 once authorized; who may confirm what is in lib/campaigns/two-person.test.ts.
    { name: "confirmItemDecision", permission: "campaigns:certify", run: (a) => campaigns.confirmItemDecision(a, { decisionId: uuid }) },
    { name: "rejectItemProposal", permission: "campaigns:certify", run: (a) => campaigns.rejectItemProposal(a, { decisionId: uuid, justification: "matrix test justification" }) },
    { name: "delegateItems", permission: "campaigns:certify", run: (a) => campaigns.delegateItems(a, { itemIds: [uuid], toUserId: someone.id }) },
    { name: "signOffCampaign", permission: "campaigns:certify", run: (a) => campaigns.signOffCampaign(a, { campaignId: live.id, attestation: campaigns.ATTESTATION }) },
    { name: "listMyCampaigns", permission: "campaigns:certify", run: (a) => campaigns.listMyCampaigns(a) },
    { name: "listMyItems", permission: "campaigns:certify", run: (a) => campaigns.listMyItems(a, { campaignId: live.id }) },
    { name: "listNotifications", permission: "notifications:read", run: (a) => listNotifications(a) },
    { name: "markNotificationsRead", permission: "notifications:read", run: (a) => markNotificationsRead(a, { all: true }) },
    { name: "approveFinding", permission: "findings:decide", run: (a) => approveFinding(a, { findingId: finding.id, justification: "matrix test justification" }) },
    { name: "revokeGrant", permission: "findings:decide", run: (a) => revokeGrant(a, { findingId: finding.id, justification: "matrix test justification" }) },
    { name: "reduceGrant", permission: "findings:decide", run: (a) => reduceGrant(a, { findingId: finding.id, justification: "matrix test justification", scopeIds: [] }) },
    { name: "confirmDecision", permission: "findings:decide", run: (a) => confirmDecision(a, { decisionId: uuid }) },
    { name: "bulkApprove", permission: "findings:decide", run: (a) => bulkApprove(a, { findingIds: [finding.id], justification: "matrix test justification" }) },
    { name: "bulkRevoke", permission: "findings:decide", run: (a) => bulkRevoke(a, { findingIds: [finding.id], justification: "matrix test justification" }) },
    { name: "bulkReduce", permission: "findings:decide", run: (a) => bulkReduce(a, { findingIds: [finding.id], justification: "matrix test justification", scopeIds: [] }) },
    { name: "retryEnforcement", permission: "findings:decide", run: (a) => retryEnforcement(a, { decisionId: uuid }) },
    { name: "claimFinding", permission: "findings:assign", run: (a) => claimFinding(a, { findingId: finding.id }) },
    { name: "assignFinding", permission: "findings:assign", run: (a) => assignFinding(a, { findingId: finding.id, assigneeId: null }) },
    { name: "listQueue", permission: "findings:read", run: (a) => listQueue(a, {} as never) },
    { name: "decisionStates", permission: "findings:read", run: (a) => decisionStates(a, []) },
    { name: "queueFilterOptions", permission: "findings:read", run: (a) => queueFilterOptions(a) },
    { name: "getFindingDetail", permission: "findings:read", run: (a) => getFindingDetail(a, finding.id) },
    { name: "latestAnalysisRun", permission: "findings:read", run: (a) => latestAnalysisRun(a) },
    { name: "runAnalysis", permission: "analysis:run", run: (a) => runAnalysis(a) },
    { name: "getSettings", permission: "inventory:read", run: (a) => getSettings(a) },
    { name: "updateSettings", permission: "settings:write", run: (a) => updateSettings(a, {}) },
    { name: "updateTwoPersonRule", permission: "settings:write", run: (a) => updateTwoPersonRule(a, { enabled: false }) },
    { name: "listProxies", permission: "proxies:manage", run: (a) => proxies.listProxies(a) },
    { name: "createProxy", permission: "proxies:manage", run: (a) => proxies.createProxy(a, { name: "matrix", adminUrl: "http://127.0.0.1:9", adminToken: "y".repeat(32), environment: "production" }) },
    { name: "updateProxy", permission: "proxies:manage", run: (a) => proxies.updateProxy(a, { id: proxy?.id ?? uuid, name: "renamed" }) },
    { name: "deleteProxy", permission: "proxies:manage", run: (a) => proxies.deleteProxy(a, { id: proxy?.id ?? uuid }) },
    { name: "buildProxySnapshot", permission: "proxy:sync", run: (a) => buildProxySnapshot(a, { environment: "production" }) },
    { name: "createServiceToken", permission: "tokens:manage", run: (a) => createServiceToken(a, { name: "matrix", scopes: ["usage:ingest"] }) },
    { name: "revokeServiceToken", permission: "tokens:manage", run: (a) => revokeServiceToken(a, uuid) },
    { name: "createTokenFromForm", permission: "tokens:manage", run: (a) => createTokenFromForm(a, { name: "matrix2", scopes: ["usage:ingest"] }) },
    { name: "listServiceTokens", permission: "tokens:manage", run: (a) => listServiceTokens(a) },
    { name: "listAuditEvents", permission: "audit:read", run: (a) => listAuditEvents(a, {} as never) },
    { name: "verifyAuditChainAs", permission: "audit:read", run: (a) => verifyAuditChainAs(a) },
    { name: "auditKeyInfo", permission: "audit:read", run: (a) => auditKeyInfo(a) },
    { name: "planImport", permission: "imports:write", run: (a) => planImport(a, importInput) },
    { name: "applyImport", permission: "imports:write", run: (a) => applyImport(a, importInput) },
    { name: "planAccessImport", permission: "imports:write", run: (a) => planAccessImport(a, accessInput) },
    { name: "applyAccessImport", permission: "imports:write", run: (a) => applyAccessImport(a, accessInput) },
    { name: "listImportTargets", permission: "imports:write", run: (a) => listImportTargets(a) },
    { name: "setImportAutoRollback", permission: "imports:write", run: (a) => setImportAutoRollback(a, { source: "matrix-none", enabled: true }) },
    { name: "listPolicies", permission: "policies:manage", run: (a) => remediation.listPolicies(a) },
    { name: "createPolicy", permission: "policies:manage", run: (a) => remediation.createPolicy(a, { name: `matrix ${Math.random()}`, kind: "revoke_unrotated_keys", days: 3650 }) },
    { name: "previewPolicy", permission: "policies:manage", run: (a) => remediation.previewPolicy(a, { policyId: uuid }) },
    { name: "enablePolicy", permission: "policies:manage", run: (a) => remediation.enablePolicy(a, { policyId: uuid }) },
    { name: "rollbackItem", permission: "policies:manage", run: (a) => remediation.rollbackItem(a, { itemId: uuid }) },
    { name: "setScopeLevel", permission: "inventory:write", run: (a) => setScopeLevel(a, { scopeId: uuid, level: "admin" }) },
    { name: "listShadowEndpoints", permission: "inventory:read", run: (a) => shadow.listShadowEndpoints(a) },
    { name: "dismissShadowEndpoint", permission: "discovery:triage", run: (a) => shadow.dismissShadowEndpoint(a, { id: uuid }) },
    { name: "addShadowToInventory", permission: "inventory:write", run: (a) => shadow.addShadowToInventory(a, { id: uuid }) },
    { name: "listZombieEndpoints", permission: "inventory:read", run: (a) => zombies.listZombieEndpoints(a) },
    { name: "stopRoutingZombie", permission: "inventory:write", run: (a) => zombies.stopRoutingZombie(a, { endpointId: uuid, reason: "matrix" }) },
    { name: "listEndpointFindings", permission: "inventory:read", run: (a) => endpointFindings.listEndpointFindings(a) },
    { name: "ingestUsageReport", permission: "usage:ingest", run: (a) => ingestUsageReport(a, { proxy: "matrix", entries: [] }) },
    { name: "scim getUser", permission: "scim", run: (a) => scimUsers.getUser(a, uuid, B) },
    { name: "scim listUsers", permission: "scim", run: (a) => scimUsers.listUsers(a, {}, B) },
    { name: "scim createUser", permission: "scim", run: (a) => scimUsers.createUser(a, scimUser, B) },
    { name: "scim replaceUser", permission: "scim", run: (a) => scimUsers.replaceUser(a, uuid, scimUser, B) },
    { name: "scim patchUser", permission: "scim", run: (a) => scimUsers.patchUser(a, uuid, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", path: "active", value: false }] }, B) },
    { name: "scim deleteUser", permission: "scim", run: (a) => scimUsers.deleteUser(a, uuid) },
    { name: "scim getGroup", permission: "scim", run: (a) => scimGroups.getGroup(a, uuid, B) },
    { name: "scim createGroup", permission: "scim", run: (a) => scimGroups.createGroup(a, { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "matrix" }, B) },
    { name: "scim replaceGroup", permission: "scim", run: (a) => scimGroups.replaceGroup(a, uuid, { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "matrix" }, B) },
    { name: "scim patchGroup", permission: "scim", run: (a) => scimGroups.patchGroup(a, uuid, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [] }, B) },
    { name: "scim deleteGroup", permission: "scim", run: (a) => scimGroups.deleteGroup(a, uuid) },
    { name: "listApis", permission: "inventory:read", run: (a) => inv.listApis(a) },
    { name: "getApi", permission: "inventory:read", run: (a) => inv.getApi(a, uuid) },
    { name: "getGrantFilterOptions", permission: "inventory:read", run: (a) => inv.getGrantFilterOptions(a, undefined) },
    { name: "listGrants", permission: "inventory:read", run: (a) => (inv.listGrants as (a: Actor, q: unknown) => Promise<unknown>)(a, {}) },
    { name: "getOverview", permission: "inventory:read", run: (a) => inv.getOverview(a) },
    { name: "getPrincipal", permission: "inventory:read", run: (a) => inv.getPrincipal(a, uuid) },
    // An allowed export records itself; reading the body to the end completes the record.
    { name: "startExport", permission: "reports:export", run: async (a) => new Response((await reports.startExport(a, { report: "exceptions", format: "csv", filters: {} }, { client: ctx.client })).body).arrayBuffer() },
    { name: "listExports", permission: "reports:export", run: (a) => reports.listExports(a, { page: 1, perPage: 20 }, ctx.client) },
    { name: "getExport", permission: "reports:export", run: (a) => reports.getExport(a, uuid, ctx.client) },
    // Issue 16 (lib/access). Ownership narrows these further (lib/access/*.test.ts); unknown ids are 400/404 once authorized.
    { name: "createServiceAccount", permission: "serviceAccounts:create", run: (a) => access.createServiceAccount(a, { name: "matrix-sa", teamId: uuid, ownerPrincipalId: uuid, environmentId: uuid }) },
    { name: "serviceAccountFormOptions", permission: "serviceAccounts:create", run: (a) => access.serviceAccountFormOptions(a) },
    { name: "listManagedServiceAccounts", permission: "credentials:manage", run: (a) => access.listManagedServiceAccounts(a) },
    { name: "issueKey", permission: "credentials:manage", run: (a) => access.issueKey(a, { principalId: uuid }) },
    { name: "rotateKey", permission: "credentials:manage", run: (a) => access.rotateKey(a, { credentialId: uuid }) },
    { name: "revokeKey", permission: "credentials:manage", run: (a) => access.revokeKey(a, { credentialId: uuid }) },
    { name: "revokeAllKeys", permission: "credentials:manage", run: (a) => access.revokeAllKeys(a, { principalId: uuid }) },
    { name: "requestAccess", permission: "access:request", run: (a) => access.requestAccess(a, { apiId: uuid, scopeIds: [uuid], reason: "matrix", duration: "1h" }) },
    { name: "listMyRequests", permission: "access:request", run: (a) => access.listMyRequests(a, access.requestListParams.parse({})) },
    { name: "requestFormOptions", permission: "access:request", run: (a) => access.requestFormOptions(a) },
    { name: "approveAccessRequest", permission: "access:approve", run: (a) => access.approveAccessRequest(a, { requestId: uuid }) },
    { name: "denyAccessRequest", permission: "access:approve", run: (a) => access.denyAccessRequest(a, { requestId: uuid, reason: "matrix" }) },
    { name: "listApprovalInbox", permission: "access:approve", run: (a) => access.listApprovalInbox(a, access.requestListParams.parse({})) },
    { name: "setEnvironmentMaxAccess", permission: "settings:write", run: (a) => access.setEnvironmentMaxAccess(a, { environmentId: uuid, maxAccessHours: 24 }) },
    { name: "environmentAccessMaximums", permission: "settings:write", run: (a) => access.environmentAccessMaximums(a) },
  ];
}, 120_000);


const subjects: { label: string; actor: Actor; roles: readonly Role[] }[] = [
  ...ROLES.map((r) => ({ label: r, actor: userActor(r), roles: [r] as const })),
  { label: "service token without scope", actor: noScopeToken, roles: [] },
];

describe("permission matrix", () => {
  it("covers every permission that some lib function checks", () => {
    const covered = new Set(calls.map((c) => c.permission));
    for (const p of Object.keys(PERMISSIONS) as Permission[]) {
      expect(covered, p).toContain(p);
    }
  });

  for (const s of subjects) {
    it(`${s.label}: denied calls are 403 and change nothing; allowed calls are not 403`, async () => {
      const problems: string[] = [];
      const { AppError } = await import("@/lib/errors");
      const isAllowed = (c: Call) => s.roles.some((r) => (PERMISSIONS[c.permission] as readonly Role[]).includes(r));
      // Denied calls first, all between two checksums of every table (one pair per
      // subject keeps the file fast on a seeded database); allowed calls may write, so after.
      const before = await checksum();
      for (const c of calls.filter((c) => !isAllowed(c))) {
        const outcome = await c.run(s.actor).then(() => null, (e: unknown) => e);
        if (!(outcome instanceof AppError) || outcome.status !== 403) problems.push(`${c.name}: expected 403 AppError, got ${outcome === null ? "success" : String((outcome as { status?: number }).status ?? outcome)}`);
      }
      if ((await checksum()) !== before) problems.push("database changed during denied calls");
      for (const c of calls.filter(isAllowed)) {
        const outcome = await c.run(s.actor).then(() => null, (e: unknown) => e as { status?: number });
        if (outcome?.status === 403) problems.push(`${c.name}: allowed by ${c.permission} but got 403`);
      }
      expect(problems).toEqual([]);
    }, 120_000);
  }
});

describe("mutating route handlers", () => {
  it("refuse a request without credentials (401) and a token lacking the scope (403), changing nothing", async () => {
    const problems: string[] = [];
    // Authenticating a token stamps its lastUsedAt (by design), so ServiceToken is
    // compared without that column.
    const tokens = () => ctx.client.$queryRawUnsafe<{ s: string }[]>(`SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS s FROM (SELECT id, name, scopes, "revokedAt" FROM "ServiceToken") x`);
    const before = (await checksum(["ServiceToken"])) + JSON.stringify(await tokens());
    for (const r of routes) {
      // The imports route falls back to the session cookie when there is no bearer, and
      // next-auth's session lookup needs Next's request scope, which vitest lacks; an
      // unknown bearer token exercises the same "no valid credentials" answer there.
      const anonHeaders: Record<string, string> = r.name.includes("imports") || r.name.includes("reports") ? { authorization: "Bearer tgs_not_a_real_token" } : {};
      const anon = await r.handler(new Request(r.url, { method: r.method, headers: { "content-type": "application/json", ...anonHeaders }, body: r.body }), {});
      if (anon.status !== 401) problems.push(`${r.name} without credentials: ${anon.status}`);
      const wrong = await r.handler(new Request(r.url, { method: r.method, headers: { "content-type": "application/json", authorization: `Bearer ${otherScopeToken}` }, body: r.body }), {});
      if (wrong.status !== 403) problems.push(`${r.name} with a token lacking ${r.scope}: ${wrong.status}`);
    }
    if ((await checksum(["ServiceToken"])) + JSON.stringify(await tokens()) !== before) problems.push("database changed");
    expect(problems).toEqual([]);
  }, 60_000);
});
