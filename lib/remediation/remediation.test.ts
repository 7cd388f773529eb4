import { createHash, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "undici";
import { systemActor, type Actor, type Role } from "@/lib/auth/actor";
import { createDb, type PrismaClient } from "@/lib/db";
import { buildProxySnapshot } from "@/lib/enforcement/snapshot";
import { startDeliveryWorker, type DeliveryWorker } from "@/lib/enforcement/worker";
import { revocationsReport } from "@/lib/reports/revocations";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { stopProxyStack } from "@/test/support/proxy-stack";
import { until } from "@/test/support/until";
import { ADMIN_TOKEN, admin as proxyAdmin, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { createPolicy, enablePolicy, listPolicyItems, myNotices, objectToItem, previewPolicy, rollbackItem, runRemediation } from "./index";

// Issue 22, point 4, end to end with a controllable clock (every lib call takes
// `now`) against the real database and the real proxy: preview → enable →
// notices → an objection moves one item to the queue → at the end of the
// notice period the rest are revoked and enforced at the proxy → one is rolled
// back and works again at the proxy; audited, and "by policy" in the
// revocations report.

const DAY = 86_400_000;
const T0 = new Date(Date.now() - 1000);
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const PEOPLE = ["ana", "ben", "cy", "dee"] as const;
const keyOf = (name: string) => `tg_test_${name}_key_0123456789`;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

let tdb: TestDatabase;
let client: PrismaClient;
let proxy: ProxyProcess;
let worker: DeliveryWorker;
let upstream: http.Server;
let admin: Actor;
let manager: Actor;
const grantOf: Record<string, string> = {};

async function user(email: string, roles: Role[], principalId: string | null): Promise<Actor> {
  const u = await client.user.create({ data: { email, name: email.split("@")[0], roles, principalId } });
  return { kind: "user", userId: u.id, email, name: u.name, roles, principalId };
}
async function status(name: string): Promise<number> {
  const res = await request(`${proxy.dataUrl}/svc/items`, { headers: { "x-api-key": keyOf(name) } });
  await res.body.dump();
  return res.statusCode;
}
const settled = () =>
  until("outbox delivered", () => client.outboxItem.findMany({ where: { status: { not: "applied" } }, select: { status: true, lastError: true } }), (rows) => rows.length === 0, 60_000);

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);

  const env = await client.environment.create({ data: { name: "staging", tier: "staging" } });
  const api = await client.api.create({ data: { name: "inventory", baseUrl: upstreamUrl, proxyPrefix: "/svc", environmentId: env.id } });
  const read = await client.scope.create({ data: { apiId: api.id, name: "inventory:read", level: "read" } });
  const endpoint = await client.endpoint.create({ data: { apiId: api.id, method: "GET", pathTemplate: "/items" } });
  await client.endpointScope.create({ data: { endpointId: endpoint.id, requirementId: randomUUID(), scopeId: read.id } });

  const mia = await client.principal.create({ data: { kind: "user", displayName: "mia" } });
  manager = await user("mia@example.test", ["manager"], mia.id);
  admin = await user("ada@example.test", ["admin"], null);
  for (const name of [...PEOPLE, "eli"]) {
    const p = await client.principal.create({ data: { kind: "user", displayName: name, managerId: mia.id } });
    await user(`${name}@example.test`, ["auditor"], p.id);
    await client.credential.create({ data: { principalId: p.id, prefix: keyOf(name).slice(0, 12), hash: sha(keyOf(name)) } });
    // Never used, granted 40 days before T0; eli used it yesterday.
    const g = await client.grant.create({ data: { principalId: p.id, scopeId: read.id, environmentId: env.id, grantedAt: at(-40), lastUsedAt: name === "eli" ? at(-1) : null } });
    grantOf[name] = g.id;
  }

  proxy = await spawnProxy({ PROXY_ENVIRONMENT: "staging" }, { data: await freePort(), admin: await freePort() });
  await client.proxy.create({ data: { name: "staging-edge", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
  const snapshot = await buildProxySnapshot(systemActor("test"), { environment: "staging" }, client);
  const put = await proxyAdmin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "start", ...snapshot });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  worker = await startDeliveryWorker({ client, pollMs: 200 });
  for (const name of [...PEOPLE, "eli"]) expect(await status(name)).toBe(200);
}, 120_000);

afterAll(() => stopProxyStack({ worker, proxy, upstream, client, tdb }));

describe("a remediation policy, end to end", () => {
  let policyId: string;
  const itemOf = async (name: string) => (await listPolicyItems(admin, policyId, client)).find((i) => i.principal === name)!;

  it("previews what it would do (count, whose) and writes nothing", async () => {
    const p = await createPolicy(admin, { name: "Unused staging access", kind: "revoke_unused_grants", days: 30 }, client);
    policyId = p.id;
    expect(p.noticeDays).toBe(7);
    const preview = await previewPolicy(admin, { policyId }, client, T0);
    expect(preview.count).toBe(4);
    expect(preview.items.map((i) => i.principal).sort()).toEqual([...PEOPLE]);
    expect(preview.items[0].summary).toMatch(/^Revoke inventory:read on inventory \(staging\): never used$/);
    expect(preview.byOwner).toHaveLength(4);
    expect(await client.remediationItem.count()).toBe(0);
    // Only admins define and preview policies.
    await expect(previewPolicy(manager, { policyId }, client, T0)).rejects.toMatchObject({ code: "forbidden" });
    await expect(createPolicy(admin, { name: "x", kind: "revoke_everything", days: -1 }, client)).rejects.toMatchObject({ code: "bad_request" });
  });

  it("enabling sends notices to each owner and their manager", async () => {
    expect(await enablePolicy(admin, { policyId }, client, T0)).toEqual({ noticed: 4 });
    const notes = await client.notification.findMany({ where: { kind: "remediation.notice" }, include: { user: true } });
    expect(notes.map((n) => n.user.email).sort()).toEqual(["ana@example.test", "ben@example.test", "cy@example.test", "dee@example.test", "mia@example.test"]);
    expect(notes.find((n) => n.user.email === "mia@example.test")!.message).toContain("4 items");
    // A run during the notice period neither notices them again nor acts.
    expect(await runRemediation(client, at(3))).toEqual({ noticed: 0, executed: 0, proposed: 0, skipped: 0 });
    expect((await myNotices(manager, client)).length).toBe(4);
  });

  it("an objection with a reason turns one item into a normal finding in the queue", async () => {
    const ben = await itemOf("ben");
    await expect(objectToItem(manager, { itemId: ben.id, reason: "short" }, client, at(2))).rejects.toMatchObject({ code: "bad_request", field: "reason" });
    const outsider = await user("zed@example.test", ["manager"], (await client.principal.create({ data: { kind: "user", displayName: "zed" } })).id);
    await expect(objectToItem(outsider, { itemId: ben.id, reason: "not my team but still objecting" }, client, at(2))).rejects.toMatchObject({ code: "forbidden" });
    const r = await objectToItem(manager, { itemId: ben.id, reason: "Ben starts on the staging migration next week" }, client, at(2));
    const finding = await client.finding.findUniqueOrThrow({ where: { id: r.findingId! } });
    expect(finding).toMatchObject({ grantId: grantOf.ben, rule: "never_used", status: "open" });
    expect(finding.evidence).toMatchObject({ policy: "Unused staging access", objection: "Ben starts on the staging migration next week" });
  });

  it("at the end of the notice period the rest are revoked by policy and enforced at the proxy", async () => {
    expect(await runRemediation(client, at(7 + 1 / 24))).toEqual({ noticed: 0, executed: 3, proposed: 0, skipped: 0 });
    await settled();
    for (const name of ["ana", "cy", "dee"]) expect(await status(name)).toBe(403);
    expect(await status("ben")).toBe(200); // objected: a reviewer decides
    expect(await status("eli")).toBe(200); // used: never a candidate
    const decisions = await client.decision.findMany({ where: { automation: "policy" } });
    expect(decisions).toHaveLength(3);
    for (const d of decisions) expect(d).toMatchObject({ kind: "revoke", deciderId: admin.kind === "user" ? admin.userId : "", enforcement: "applied", findingId: null });
  });

  it("one is rolled back in one action and works again at the proxy; not after 30 days", async () => {
    const ana = await itemOf("ana");
    const r = await rollbackItem(admin, { itemId: ana.id }, client, at(8));
    expect(r.restored).toBe(1);
    await settled();
    expect(await status("ana")).toBe(200);
    expect(await client.grant.findUniqueOrThrow({ where: { id: grantOf.ana } })).toMatchObject({ status: "active", revokedAt: null });
    await expect(rollbackItem(admin, { itemId: ana.id }, client, at(8))).rejects.toMatchObject({ code: "conflict" });
    const cy = await itemOf("cy");
    await expect(rollbackItem(admin, { itemId: cy.id }, client, at(7 + 31))).rejects.toMatchObject({ code: "conflict" });
    // The same policy does not take the restored grant again.
    expect((await runRemediation(client, at(9))).noticed).toBe(0);
  });

  it("is all in the audit log, and in the revocations report as by policy", async () => {
    const actions = (await client.auditEvent.findMany({ where: { action: { startsWith: "remediation." } }, orderBy: { seq: "asc" } })).map((e) => `${e.action} ${e.actor}`);
    expect(actions).toEqual([
      "remediation.policy_create ada@example.test",
      "remediation.policy_enable ada@example.test",
      "remediation.notice policy:Unused staging access (enabled by ada@example.test)",
      "remediation.object mia@example.test",
      ...Array(3).fill("remediation.execute policy:Unused staging access (enabled by ada@example.test)"),
      "remediation.rollback ada@example.test",
    ]);
    const q = revocationsReport.query!({ from: undefined, to: undefined, environment: undefined } as never);
    const rows = await client.$queryRawUnsafe<{ source: string; principal: string; decider: string; enforcement: string }[]>(q.text, ...q.values);
    expect(rows.map((r) => r.principal).sort()).toEqual(["ana", "cy", "dee"]);
    for (const row of rows) expect(row).toMatchObject({ source: "by policy", decider: "ada@example.test", enforcement: "applied" });
  });
});
