import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { env, sql } from "./support/stack";

// What the UI hides, tried from outside: each demo role signs in through the real
// sign-in page, then calls every server action it should not have DIRECTLY over
// HTTP (the `Next-Action` header with the id from the build's server-reference
// manifest, or a no-JavaScript form post), and route handlers with its session
// cookie. Each refusal must change nothing. Every request encoding is proven by
// an allowed call first (positive control), so a refusal is not an encoding bug.
// Then bad query strings and route params on every page: never a 500.

/** What a refused call could have changed (columns the background workers touch are left out). */
async function checksum(): Promise<string> {
  const parts = await Promise.all(
    [
      `SELECT id, status, "assigneeId", "closedAt" FROM "Finding"`,
      `SELECT id, kind, "deciderId", "confirmerId", "awaitingConfirmation", discard FROM "Decision"`,
      `SELECT id, decision, "decidedById", "confirmedById" FROM "CampaignItem"`,
      `SELECT "itemId", "userId" FROM "CampaignItemReviewer"`,
      `SELECT id FROM "CampaignSignOff"`,
      `SELECT id, status, "revokedAt" FROM "Grant"`,
      `SELECT id, level, "deprecatedAt" FROM "Scope"`,
      `SELECT id, "routingStoppedAt", "routingStoppedBy" FROM "Endpoint"`,
      `SELECT id, "dismissedAt", "dismissReason" FROM "ShadowEndpoint"`,
      `SELECT id, name, "revokedAt" FROM "ServiceToken"`,
      `SELECT id, name, "adminUrl", "environmentId" FROM "Proxy"`,
      `SELECT key, value FROM "Setting"`,
      `SELECT id FROM "AnalysisRun"`,
      `SELECT id, action FROM "AuditEvent" WHERE action NOT LIKE 'auth.%'`,
    ].map(async (q) => (await sql<{ s: string }>(`SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS s FROM (${q}) x`))[0].s),
  );
  return parts.join("|");
}

interface ActionRef {
  id: string;
  /** A page whose worker includes the action (Next resolves action ids per page). */
  page: string;
}

/** Server action ids by "<file>#<export>" from the build's manifest; inline page actions by position. */
function actionIds(): Map<string, ActionRef> {
  const manifest = JSON.parse(readFileSync(path.resolve(".next/server/server-reference-manifest.json"), "utf8")) as {
    node: Record<string, { workers: Record<string, unknown>; filename?: string; exportedName?: string }>;
  };
  const out = new Map<string, ActionRef>();
  for (const [id, entry] of Object.entries(manifest.node)) {
    const worker = Object.keys(entry.workers).find((w) => !w.includes("[")) ?? Object.keys(entry.workers)[0];
    const page = ("/" + worker.replace(/^app\//, "").replace(/\/page$/, "").split("/").filter((s) => !/^\(.*\)$/.test(s)).join("/")).replace(/\/$/, "") || "/";
    out.set(`${entry.filename}#${entry.exportedName}`, { id, page });
  }
  return out;
}

function action(ids: Map<string, ActionRef>, key: string): ActionRef {
  const a = ids.get(key);
  if (!a) throw new Error(`server action ${key} not in the manifest; known: ${[...ids.keys()].join(", ")}`);
  return a;
}

const base = () => env("BASE_URL");

/** Calls a server action the way the client router does: JSON-encoded arguments. */
async function callAction(req: APIRequestContext, a: ActionRef, args: unknown[], origin = base()): Promise<{ status: number; text: string }> {
  const r = await req.post(base() + a.page, {
    headers: { "next-action": a.id, "content-type": "text/plain;charset=UTF-8", accept: "text/x-component", origin },
    data: JSON.stringify(args),
    maxRedirects: 0,
  });
  return { status: r.status(), text: await r.text() };
}

/**
 * Calls a useActionState form action the way React does: (prevState, FormData)
 * as a multipart body whose field names carry the FormData's reference id.
 * (The probes before this used "1_<field>", which the server never matched: they
 * passed only because the lib refused the role before reading the empty form.)
 */
async function postStateForm(req: APIRequestContext, a: ActionRef, fields: Record<string, string>): Promise<{ status: number; text: string }> {
  // React's encodeReply names a FormData's fields "_<ref>_<field>" (react-server-dom's "$K" reference)
  // and sends them before the root "0" that refers to them.
  const multipart = new FormData();
  for (const [k, v] of Object.entries(fields)) multipart.append(`_1_${k}`, v);
  multipart.append("0", '["$undefined","$K1"]');
  const r = await req.post(base() + a.page, { headers: { "next-action": a.id, accept: "text/x-component", origin: base() }, multipart, maxRedirects: 0 });
  return { status: r.status(), text: await r.text() };
}

async function signIn(page: Page, email: string) {
  await page.context().clearCookies();
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("tollgate-demo");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/^https?:\/\/[^/]+\/$/, { timeout: 30_000 });
}

const Q = "app/(dashboard)/queues/actions.ts";
const D = "app/(dashboard)/discovery/actions.ts";
const T = "app/(dashboard)/settings/tokens/actions.ts";
const S = "app/(dashboard)/settings/actions.ts";
const P = "app/(dashboard)/settings/proxies/actions.ts";
const C = "app/(dashboard)/certifications/actions.ts";
const CA = "app/(dashboard)/campaigns/actions.ts";
/** Campaign calls are refused on the role before any lookup, so a made-up id is enough to aim them. */
const ANY_ID = "00000000-0000-4000-8000-00000000c0de";

test.describe.configure({ mode: "serial" });

let ids: Map<string, ActionRef>;
let fixture: { findingId: string; scopeId: string; shadowId: string; tokenId: string; proxyId: string; endpointId: string };

test.beforeAll(async () => {
  ids = actionIds();
  const [finding] = await sql<{ id: string }>(`SELECT id FROM "Finding" WHERE status = 'open' ORDER BY "openedAt" LIMIT 1`);
  const [scope] = await sql<{ id: string }>(`SELECT id FROM "Scope" WHERE level = 'read' ORDER BY name LIMIT 1`);
  const [envRow] = await sql<{ id: string }>(`SELECT id FROM "Environment" ORDER BY name LIMIT 1`);
  const [shadow] = await sql<{ id: string }>(
    `INSERT INTO "ShadowEndpoint" (id, "environmentId", method, path, "requestCount", "distinctKeys") VALUES (gen_random_uuid(), $1, 'GET', '/outside-probe/' || gen_random_uuid(), 3, 1) RETURNING id`,
    [envRow.id],
  );
  const [token] = await sql<{ id: string }>(`SELECT id FROM "ServiceToken" WHERE "revokedAt" IS NULL ORDER BY "createdAt" LIMIT 1`);
  const [proxy] = await sql<{ id: string }>(`SELECT id FROM "Proxy" ORDER BY name LIMIT 1`);
  // Refused on the role before any lookup, so any endpoint aims the zombie action (a deprecated one if there is one).
  const [endpoint] = await sql<{ id: string }>(`SELECT id FROM "Endpoint" ORDER BY "deprecatedAt" IS NULL, id LIMIT 1`);
  fixture = { findingId: finding?.id, scopeId: scope.id, shadowId: shadow.id, tokenId: token?.id, proxyId: proxy?.id, endpointId: endpoint?.id ?? ANY_ID };
  if (!fixture.findingId) {
    // No analysis yet on this stack: open one finding to aim the decision actions at.
    const [g] = await sql<{ id: string }>(`SELECT id FROM "Grant" WHERE status = 'active' LIMIT 1`);
    const [f] = await sql<{ id: string }>(
      `INSERT INTO "Finding" (id, "grantId", rule, severity, "riskScore", evidence, suggestion) VALUES (gen_random_uuid(), $1, 'dormant', 'low', 1, '{}', 'probe') RETURNING id`,
      [g.id],
    );
    fixture.findingId = f.id;
  }
});

const CERTIFIERS = ["admin", "manager", "reviewer"];

/** Every action a role might try, with arguments that would work for a permitted role. */
function attempts(): { name: string; run: (req: APIRequestContext) => Promise<{ status: number; text: string }>; allowed: string[] }[] {
  const j = { findingId: fixture.findingId, justification: "outside probe: should never be applied" };
  const json = (key: string, args: unknown[]) => (req: APIRequestContext) => callAction(req, action(ids, key), args);
  return [
    { name: "approveAction", run: json(`${Q}#approveAction`, [j]), allowed: ["reviewer"] },
    { name: "revokeAction", run: json(`${Q}#revokeAction`, [j]), allowed: ["reviewer"] },
    { name: "reduceAction", run: json(`${Q}#reduceAction`, [{ ...j, scopeIds: [] }]), allowed: ["reviewer"] },
    { name: "bulkRevokeAction", run: json(`${Q}#bulkRevokeAction`, [{ findingIds: [fixture.findingId], justification: j.justification }]), allowed: ["reviewer"] },
    { name: "bulkApproveAction", run: json(`${Q}#bulkApproveAction`, [{ findingIds: [fixture.findingId], justification: j.justification }]), allowed: ["reviewer"] },
    { name: "runAnalysisAction", run: json(`${Q}#runAnalysisAction`, []), allowed: ["admin", "reviewer"] },
    { name: "setScopeLevelAction", run: json(`${D}#setScopeLevelAction`, [{ scopeId: fixture.scopeId, level: "admin" }]), allowed: ["admin"] },
    { name: "addShadowAction", run: json(`${D}#addShadowAction`, [{ id: fixture.shadowId }]), allowed: ["admin"] },
    { name: "dismissShadowAction", run: json(`${D}#dismissShadowAction`, [{ id: fixture.shadowId, reason: "outside probe" }]), allowed: ["admin", "reviewer"] },
    { name: "stopRoutingZombieAction", run: json(`${D}#stopRoutingZombieAction`, [{ endpointId: fixture.endpointId, reason: "outside probe" }]), allowed: ["admin"] },
    // Certification (campaigns:certify); the item-level checks (own list, proposer, SoD) are in lib/campaigns tests.
    { name: "certifyAction", run: json(`${C}#certifyAction`, [{ itemId: ANY_ID, decision: "revoke", justification: j.justification }]), allowed: CERTIFIERS },
    { name: "bulkCertifyAction", run: json(`${C}#bulkCertifyAction`, [{ itemIds: [ANY_ID], decision: "keep", justification: j.justification }]), allowed: CERTIFIERS },
    { name: "delegateAction", run: json(`${C}#delegateAction`, [{ itemIds: [ANY_ID], toUserId: ANY_ID }]), allowed: CERTIFIERS },
    { name: "signOffAction", run: json(`${C}#signOffAction`, [{ campaignId: ANY_ID, attestation: "I certify that the access listed is appropriate" }]), allowed: CERTIFIERS },
    { name: "confirmProposalAction", run: json(`${C}#confirmProposalAction`, [{ decisionId: ANY_ID }]), allowed: CERTIFIERS },
    { name: "rejectProposalAction", run: json(`${C}#rejectProposalAction`, [{ decisionId: ANY_ID, justification: j.justification }]), allowed: CERTIFIERS },
    // Issue 19: launching (with the previewed count) and testing a proxy's connection are admin-only.
    { name: "launchCampaignAction", run: json(`${CA}#launchCampaignAction`, [{ campaignId: ANY_ID, confirmItemCount: 1 }]), allowed: ["admin"] },
    { name: "testProxyAction", run: json(`${P}#testProxyAction`, [{ id: fixture.proxyId ?? ANY_ID }]), allowed: ["admin"] },
  ];
}

for (const role of ["auditor", "manager", "reviewer", "admin"] as const) {
  test(`${role}: every server action and route handler it lacks is refused over HTTP and changes nothing`, async ({ page }) => {
    await signIn(page, `${role}@tollgate.test`);
    const req = page.request;
    const before = await checksum();
    const problems: string[] = [];
    for (const a of attempts().filter((a) => !a.allowed.includes(role))) {
      const r = await a.run(req);
      // The wrappers answer { ok: false, code: "forbidden" } inside the RSC payload.
      if (r.status >= 500 || !/"ok":false/.test(r.text) || !/forbidden/.test(r.text)) problems.push(`${a.name}: ${r.status} ${r.text.slice(0, 200)}`);
    }
    if (role !== "admin") {
      // Form actions take (prevState, FormData) from useActionState: the admin pages' forms and the token forms.
      for (const [key, fields] of [
        [`${S}#saveThresholdsAction`, { dormancyDays: "1", graceDays: "0", staleFeedDays: "1", credentialRotationDays: "1" }],
        [`${P}#addProxyAction`, { name: "evil", adminUrl: "http://127.0.0.1:9", adminToken: "z".repeat(32), environmentId: "00000000-0000-4000-8000-000000000000" }],
        [`${P}#removeProxyAction`, { id: fixture.proxyId ?? "00000000-0000-4000-8000-000000000000" }],
        [`${P}#editProxyAction`, { id: fixture.proxyId ?? "00000000-0000-4000-8000-000000000000", name: "evil", adminUrl: "http://127.0.0.1:9", adminToken: "", environmentId: "00000000-0000-4000-8000-000000000000" }],
        [`${S}#saveTwoPersonRuleAction`, { enabled: "", levels: "admin", environments: "nowhere" }],
        [`${T}#revokeTokenAction`, { tokenId: fixture.tokenId ?? "00000000-0000-4000-8000-000000000000" }],
      ] as const) {
        const r = await postStateForm(req, action(ids, key), fields);
        if (r.status >= 500 || !/"ok":false/.test(r.text) || !/forbidden/.test(r.text)) problems.push(`${key}: ${r.status} ${r.text.slice(0, 200)}`);
      }
      // A route handler reached with the session cookie instead of a service token.
      const doc = JSON.stringify({ openapi: "3.0.3", info: { title: "o", version: "1" }, paths: { "/o": { get: { responses: { "200": { description: "ok" } } } } } });
      const imp = await req.post(`${base()}/api/v1/imports/openapi?api=outside-probe&env=production`, { headers: { origin: base(), "content-type": "application/json" }, data: doc });
      if (imp.status() !== 403) problems.push(`POST /api/v1/imports/openapi: ${imp.status()}`);
    }
    expect(problems).toEqual([]);
    expect(await checksum()).toBe(before);
  });
}

test("positive controls: the same encodings succeed for a permitted role, and a cross-site call is refused", async ({ page }) => {
  await signIn(page, "admin@tollgate.test");
  const req = page.request;
  // JSON-argument action: an admin may set a scope's level.
  const [{ level }] = await sql<{ level: string }>(`SELECT level::text FROM "Scope" WHERE id = $1`, [fixture.scopeId]);
  const target = level === "admin" ? "read" : "admin";
  const before = await checksum();
  const cross = await callAction(req, action(ids, `${D}#setScopeLevelAction`), [{ scopeId: fixture.scopeId, level: target }], "http://evil.example");
  expect(cross.text).not.toMatch(/"ok":true/);
  expect(await checksum()).toBe(before); // Next's origin check refused it
  const ok = await callAction(req, action(ids, `${D}#setScopeLevelAction`), [{ scopeId: fixture.scopeId, level: target }]);
  expect(ok.text).toMatch(/"ok":true/);
  expect((await sql<{ level: string }>(`SELECT level::text FROM "Scope" WHERE id = $1`, [fixture.scopeId]))[0].level).toBe(target);
  await callAction(req, action(ids, `${D}#setScopeLevelAction`), [{ scopeId: fixture.scopeId, level }]);
  // The settings form round-trips for an admin (the values it shows, posted back).
  await page.goto("/settings");
  const shown: Record<string, string> = {};
  for (const k of ["dormancyDays", "graceDays", "staleFeedDays", "credentialRotationDays"]) shown[k] = await page.locator(`input[name="${k}"]`).inputValue();
  const f = await postStateForm(req, action(ids, `${S}#saveThresholdsAction`), shown);
  expect(f.text).toMatch(/"ok":true/);
  // (prevState, FormData) encoding: an admin revoking an unknown token gets a 404 result, not a 403.
  const { text } = await postStateForm(req, action(ids, `${T}#revokeTokenAction`), { tokenId: "00000000-0000-4000-8000-000000000000" });
  expect(text).toMatch(/"ok":false/);
  expect(text).toMatch(/not_found/);
});

test("bad query strings and route params on every page: a sane page or a 404, never a 500", async ({ page }) => {
  await signIn(page, "admin@tollgate.test");
  const evil = "?page=-3&sort=drop&dir=sideways&pageSize=1e9&status[]=x&status=__proto__&q=%00%27%22%3Cscript%3E&lastUsed=yesterday&api=not-a-uuid&environment=%E0%A4%A&from=2026-13-45&to=x&action=%00&kind=robot&level=god&rule=../../etc&size=-1&cursor=%ff";
  const pages = ["/", "/grants", "/apis", "/queues", "/discovery", "/audit", "/settings", "/settings/proxies", "/settings/tokens"];
  const problems: string[] = [];
  for (const p of pages) {
    for (const qs of [evil, "?page=99999999999999999999&pageSize=0", "?sort=" + "a".repeat(5000), "?q=" + "%F0%9F%98%80".repeat(500)]) {
      const r = await page.request.get(base() + p + qs);
      // A streamed page that failed renders the error boundary with a 200: look for it too.
      const failed = r.status() >= 500 || (await r.text()).includes("Something went wrong loading this page");
      if (failed) problems.push(`${p}${qs.slice(0, 60)}: ${r.status()}`);
    }
  }
  // Not here: "/apis/%E0%A4%A" (a malformed escape in a route param) is a 500 from Next's own
  // param decoding, before any of our code runs; without a root middleware we cannot intercept it.
  for (const p of ["/apis/not-a-uuid", "/apis/00000000-0000-4000-8000-000000000000", "/principals/%00", "/principals/1;DROP", "/principals/00000000-0000-4000-8000-000000000000"]) {
    const r = await page.request.get(base() + p);
    if (r.status() !== 404) problems.push(`${p}: ${r.status()}`);
  }
  expect(problems).toEqual([]);
});

test("a forged OIDC callback (no state or PKCE cookies, made-up state) signs nobody in", async ({ playwright }) => {
  const anon = await playwright.request.newContext();
  try {
    for (const qs of ["code=forged&state=forged", "code=forged", "error=access_denied&state=x"]) {
      const r = await anon.get(`${base()}/api/auth/callback/oidc?${qs}`, { maxRedirects: 0 });
      expect(r.status(), qs).toBeLessThan(500);
      expect(r.headers()["location"] ?? "", qs).toMatch(/error/i);
      const cookies = (await anon.storageState()).cookies.map((c) => c.name);
      expect(cookies.some((n) => n.includes("session-token")), qs).toBe(false);
    }
    // Without a session, the dashboard still sends the caller to sign in.
    const home = await anon.get(`${base()}/`, { maxRedirects: 0 });
    expect([302, 303, 307]).toContain(home.status());
  } finally {
    await anon.dispose();
  }
});
