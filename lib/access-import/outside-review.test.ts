import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "undici";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { createDb, type PrismaClient } from "@/lib/db";
import { startDeliveryWorker, type DeliveryWorker } from "@/lib/enforcement/worker";
import { getOverview } from "@/lib/inventory/overview";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { stopProxyStack } from "@/test/support/proxy-stack";
import { until } from "@/test/support/until";
import { buildProxySnapshot } from "@/lib/enforcement/snapshot";
import { ADMIN_TOKEN, admin as proxyAdmin, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { applyAccessImport } from "./index";
import { setImportAutoRollback } from "./sources";

// Issue 22, point 5, against the real proxy: a source imported once is the
// baseline; a re-import showing a consumer added at the gateway opens
// granted_outside_review findings, and with the source's automatic rollback on
// the added key is refused (401) at the proxy right after the import, through
// the decision → outbox → proxy path.

const FIXTURE = readFileSync(path.resolve("test/fixtures/kong/acceptance.yml"), "utf8");
const KEYS = { alice: "alice-secret-key-1", eve: "eve-added-at-the-gateway-1", frank: "frank-added-at-the-gateway-1" };

let tdb: TestDatabase;
let client: PrismaClient;
let proxy: ProxyProcess;
let worker: DeliveryWorker;
let upstream: http.Server;
let upstreamUrl: string;
let admin: Actor;

interface KongDoc {
  consumers: { username: string; keyauth_credentials?: { key: string }[]; acls?: { group: string }[] }[];
}
/** The fixture with consumers added outside Tollgate (at the gateway). */
function withConsumers(...names: (keyof typeof KEYS)[]): Buffer {
  const doc = parseYaml(FIXTURE) as KongDoc;
  for (const n of names) doc.consumers.push({ username: n, keyauth_credentials: [{ key: KEYS[n] }], acls: [{ group: "gold" }] });
  return Buffer.from(toYaml(doc));
}
const importFile = (file: Buffer) =>
  applyAccessImport(admin, { format: "kong", environment: "production", file, filename: "kong.yml", vars: { UPSTREAM_URL: upstreamUrl, DECK_DAVE_KEY: "dave-secret-from-env" } }, { client });

async function status(key: string): Promise<number> {
  const res = await request(`${proxy.dataUrl}/orders/1`, { headers: { apikey: key } });
  await res.body.dump();
  return res.statusCode;
}
const settled = () =>
  until("outbox delivered", () => client.outboxItem.findMany({ where: { status: { not: "applied" } }, select: { status: true, lastError: true, attempts: true } }), (rows) => rows.length === 0, 30_000);

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  const env = await client.environment.create({ data: { name: "production", tier: "production" } });
  const user = await client.user.create({ data: { email: "ada@example.test", name: "Ada Admin", roles: ["admin"] } });
  admin = { kind: "user", userId: user.id, email: user.email, name: user.name, roles: ["admin"], principalId: null };
  proxy = await spawnProxy({ PROXY_ENVIRONMENT: "production" }, { data: await freePort(), admin: await freePort() });
  await client.proxy.create({ data: { name: "edge", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
  // A fresh proxy takes batches once it holds a state: the (empty) snapshot, as a deployment starts.
  const put = await proxyAdmin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "start", ...(await buildProxySnapshot(systemActor("test"), { environment: "production" }, client)) });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  worker = await startDeliveryWorker({ client, pollMs: 200 });

  // The baseline: nothing in a source's first import is "outside review".
  const first = await importFile(withConsumers());
  expect(first.outsideReview.findingsOpened).toBe(0);
  await settled();
  expect(await status(KEYS.alice)).toBe(200);
}, 120_000);

afterAll(() => stopProxyStack({ worker, proxy, upstream, client, tdb }));

describe("granted outside review", () => {
  it("a consumer added at the gateway opens a granted_outside_review finding per grant, naming its key", async () => {
    const r = await importFile(withConsumers("eve"));
    expect(r.applied).toBe(true);
    // gold reaches orders (allow list), catalog (deny list) and reports (key-auth only): three grants, one finding each.
    const eve = await client.grant.count({ where: { principal: { displayName: "eve" } } });
    expect(eve).toBe(3);
    expect(r.outsideReview).toMatchObject({ findingsOpened: eve, rolledBackGrants: 0, revokedKeys: 0 });
    const findings = await client.finding.findMany({ where: { rule: "granted_outside_review" }, include: { grant: { include: { principal: true } } } });
    expect(findings).toHaveLength(eve);
    for (const f of findings) {
      expect(f.grant.principal.displayName).toBe("eve");
      expect(f.status).toBe("open");
      expect(f.evidence).toMatchObject({ source: "kong-production", grantAddedOutside: true, keysAddedOutside: [expect.stringMatching(/./)] });
    }
    // Without rollback the key is live, as the source says, and waits for a reviewer.
    await settled();
    expect(await status(KEYS.eve)).toBe(200);
    // Re-importing the same file again is not "outside" a second time.
    const again = await importFile(withConsumers("eve"));
    expect(again.outsideReview.findingsOpened).toBe(0);
  });

  it("with automatic rollback on, the added key is 401 at the real proxy right after the import, by an audited decision", async () => {
    await setImportAutoRollback(admin, { source: "kong-production", enabled: true }, client);
    const r = await importFile(withConsumers("eve", "frank"));
    expect(r.outsideReview).toMatchObject({ findingsOpened: 3, rolledBackGrants: 3, proposedGrants: 0, revokedKeys: 1 });
    await settled();
    expect(await status(KEYS.frank)).toBe(401);
    // Only the new one: eve (imported before) and alice keep working.
    expect(await status(KEYS.eve)).toBe(200);
    expect(await status(KEYS.alice)).toBe(200);

    const frank = await client.principal.findFirstOrThrow({ where: { displayName: "frank" }, include: { grants: true, credentials: true } });
    expect(frank.grants.map((g) => g.status)).toEqual(["revoked", "revoked", "revoked"]);
    expect(frank.credentials.every((c) => c.revokedAt !== null)).toBe(true);
    const decisions = await client.decision.findMany({ where: { grantId: { in: frank.grants.map((g) => g.id) } }, include: { finding: true } });
    expect(decisions).toHaveLength(3);
    for (const d of decisions) {
      expect(d).toMatchObject({ kind: "revoke", automation: "import_rollback", deciderId: admin.kind === "user" ? admin.userId : "", enforcement: "applied" });
      expect(d.finding).toMatchObject({ rule: "granted_outside_review", status: "revoked" });
    }
    const audit = await client.auditEvent.findMany({ where: { action: { in: ["import.auto_rollback_on", "import.rollback_outside_review"] } }, orderBy: { seq: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["import.auto_rollback_on", "import.rollback_outside_review"]);
    expect(audit[1].actor).toContain("ada@example.test");

    const overview = await getOverview(admin, client);
    expect(overview.grantOrigins).toMatchObject({ outsideReview: 6, rolledBack: 3 });
  });

  it("turning rollback on takes a signed-in admin and a known source", async () => {
    await expect(setImportAutoRollback({ kind: "system", name: "job" }, { source: "kong-production", enabled: true }, client)).rejects.toMatchObject({ code: "forbidden" });
    await expect(setImportAutoRollback(admin, { source: "nope", enabled: true }, client)).rejects.toMatchObject({ code: "not_found" });
    await expect(setImportAutoRollback(admin, { source: "kong-production", enabled: "yes" }, client)).rejects.toMatchObject({ code: "bad_request" });
  });
});
