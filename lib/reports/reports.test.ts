import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { createServiceToken } from "@/lib/auth/service-tokens";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { until } from "@/test/support/until";
import { csvObjects } from "@/test/support/csv";
import { ADMIN_TOKEN, admin, grantsOnlySnapshot, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { DAY, daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { approveFinding, revokeGrant } from "@/lib/review";
import { createCampaign } from "@/lib/campaigns/create";
import { launchCampaign } from "@/lib/campaigns/launch";
import { certifyItem } from "@/lib/campaigns/certify";
import { closeAdminPools } from "@/lib/enforcement/admin-client";
import { startDeliveryWorker, type DeliveryWorker } from "@/lib/enforcement/worker";
import { startExport, type ExportResult } from "./export";
import { hashingStream } from "./export";
import { ABANDONED_AFTER_MS, failAbandonedExports, recordExportStart, recordExportEnd } from "./records";
import { closeReportPool, cursorBatches, withSnapshot } from "./cursor";
import { csvChunks } from "./encode";
import { inventoryReport } from "./inventory";
import { appError } from "@/test/support/errors";
import { summaryDataSha256 } from "./pdf";

// Evidence exports against a real database, a real enforcement proxy and the
// delivery worker: rows are checked against what the database holds, and the
// recorded SHA-256 against the bytes actually received.

let tdb: TestDatabase;
let client: PrismaClient;
let pool: pg.Pool;
let proxy: ProxyProcess;
let worker: DeliveryWorker;
let auditor: Actor;
let adminUser: Awaited<ReturnType<typeof makeReviewer>>;
let reviewer: Awaited<ReturnType<typeof makeReviewer>>;
let manager: Awaited<ReturnType<typeof makeReviewer>>;
const g: Record<string, string> = {};
let revokeDecisionId = "";
let approvedFindingId = "";
let campaignId = "";
let campaignRevokeItem = "";
let campaignKeepItem = "";

async function readAll(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function exportAll(actor: Actor, report: string, format: string, filters: Record<string, string> = {}) {
  const result = await startExport(actor, { report, format, filters }, { client, pool });
  const bytes = await readAll(result.body);
  const record = await client.reportExport.findUniqueOrThrow({ where: { id: result.exportId } });
  return { result, bytes, record };
}

async function expectError(p: Promise<unknown>, status: number, field?: string) {
  const e = await appError(p);
  expect(e.status).toBe(status);
  if (field) expect(e.field).toBe(field);
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  process.env.DATABASE_URL = tdb.url; // for the route handler test (lib/db's default client)
  client = createDb(tdb.url, 6);
  pool = new pg.Pool({ connectionString: tdb.url, max: 3 });

  const env = await makeEnvironment(client, "production", "prod");
  const team = await client.team.create({ data: { name: "payments" } });
  const { api, scopes } = await makeApi(client, env.id, ["read", "write"], { name: "orders", teamId: team.id });
  const alice = await makePrincipal(client, { name: "alice", teamId: team.id });
  const bob = await makePrincipal(client, { name: "=bob", teamId: team.id }); // a formula-looking name
  const svc = await makePrincipal(client, { name: "billing-svc", kind: "service_account" });
  const carol = await makePrincipal(client, { name: "carol" });
  g.aliceRead = (await makeGrant(client, { principalId: alice.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(400) })).id;
  g.bobRecent = (await makeGrant(client, { principalId: bob.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(10) })).id;
  g.aliceExpired = (await makeGrant(client, { principalId: alice.id, scopeId: scopes.write.id, environmentId: env.id, grantedAt: daysAgo(400), expiresAt: daysAgo(5) })).id;
  await client.grant.update({ where: { id: g.aliceExpired }, data: { status: "expired" } });
  g.svcRevoked = (await makeGrant(client, { principalId: svc.id, scopeId: scopes.write.id, environmentId: env.id, grantedAt: daysAgo(400) })).id;
  await client.grant.update({ where: { id: g.svcRevoked }, data: { status: "revoked", revokedAt: daysAgo(30) } });
  g.bobWrite = (await makeGrant(client, { principalId: bob.id, scopeId: scopes.write.id, environmentId: env.id, grantedAt: daysAgo(400) })).id;
  g.carolRead = (await makeGrant(client, { principalId: carol.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(300) })).id;
  g.svcRead = (await makeGrant(client, { principalId: svc.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(300) })).id;

  // The real proxy holds the active grants; the worker delivers decisions to it.
  proxy = await spawnProxy({}, { data: await freePort(), admin: await freePort() });
  const active = await client.grant.findMany({ where: { status: "active" } });
  const snap = await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", grantsOnlySnapshot("initial", { id: api.id, name: api.name, prefix: "/orders", upstream: "http://127.0.0.1:1" }, active));
  expect(snap.status).toBe(200);
  await client.proxy.create({ data: { name: "prod-edge", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
  worker = await startDeliveryWorker({ client, pollMs: 200 });

  reviewer = await makeReviewer(client);
  manager = await makeReviewer(client, ["manager"]);
  adminUser = await makeReviewer(client, ["admin"]);
  auditor = (await makeReviewer(client, ["auditor"])).actor;

  // Review queue: revoke alice's dormant read grant, approve bob's over-privileged write grant.
  const dormant = await client.finding.create({ data: { grantId: g.aliceRead, rule: "dormant", severity: "medium", riskScore: 50, evidence: {}, suggestion: "Revoke" } });
  revokeDecisionId = (await revokeGrant(reviewer.actor, { findingId: dormant.id, justification: "unused for 200 days" }, client)).decisionId;
  const risky = await client.finding.create({ data: { grantId: g.bobWrite, rule: "over_privileged", severity: "high", riskScore: 80, evidence: {}, suggestion: "Reduce" } });
  approvedFindingId = risky.id;
  await approveFinding(reviewer.actor, { findingId: risky.id, justification: "needed for quarter-end close", reReviewAt: new Date(Date.now() + 90 * DAY) }, client);

  // A campaign over the remaining grants, reviewed by a named manager: one revoke, one keep of a risky grant.
  await client.finding.create({ data: { grantId: g.svcRead, rule: "privileged_service", severity: "high", riskScore: 70, evidence: {}, suggestion: "Review" } });
  const created = await createCampaign(
    adminUser.actor,
    { name: "Q4 certification", period: "2026-Q4", dueAt: new Date(Date.now() + 14 * DAY), reviewerRule: "named", namedReviewerIds: [manager.user.id], closePolicy: "keep_and_flag" },
    client,
  );
  campaignId = created.id;
  await launchCampaign(adminUser.actor, { campaignId }, client);
  const items = await client.campaignItem.findMany({ where: { campaignId } });
  campaignRevokeItem = items.find((i) => i.grantId === g.carolRead)!.id;
  campaignKeepItem = items.find((i) => i.grantId === g.svcRead)!.id;
  await certifyItem(manager.actor, { itemId: campaignRevokeItem, decision: "revoke", justification: "carol left the payments project" }, client);
  await certifyItem(manager.actor, { itemId: campaignKeepItem, decision: "keep", justification: "billing runs need it every night" }, client);

  // Both revokes acknowledged by the proxy and verified removed.
  await until(
    "both revokes verified",
    () => client.decision.count({ where: { kind: "revoke", verifiedRemovedAt: { not: null } } }),
    (n) => n === 2,
  );
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await proxy?.stop();
  await closeAdminPools();
  await pool?.end();
  await closeReportPool(); // the route handler's default pool
  const { db } = await import("@/lib/db");
  await db().$disconnect();
  await client?.$disconnect();
  await tdb?.drop();
});

describe("access inventory as of a date", () => {
  test("CSV rows are exactly the grants active at that instant; the record's SHA-256 is the hash of the bytes received", async () => {
    const asOf = new Date(Date.now() - 20 * DAY).toISOString();
    const { result, bytes, record } = await exportAll(auditor, "inventory", "csv", { asOf });
    const rows = csvObjects(bytes.toString("utf8"));
    // 20 days ago: alice's read (revoked today), alice's write (expired 5 days ago), bob's write,
    // carol's and the service's read — not bob's recent grant, not the service grant revoked 30 days ago.
    expect(rows.map((r) => r["Grant id"]).sort()).toEqual([g.aliceRead, g.aliceExpired, g.bobWrite, g.carolRead, g.svcRead].sort());
    expect(record).toMatchObject({ status: "completed", report: "inventory", format: "csv", rowCount: 5, sha256: sha(bytes), actor: (auditor as { email: string }).email });
    expect(Number(record.byteCount)).toBe(bytes.length);
    expect(record.filters).toEqual({ asOf });
    expect(result.filename).toMatch(/^tollgate-inventory-\d{8}T\d{6}-[0-9a-f]{8}\.csv$/);
    // A name that a spreadsheet would run as a formula is defused.
    expect(rows.find((r) => r["Grant id"] === g.bobWrite)?.Principal).toBe("'=bob");
    const events = await client.auditEvent.findMany({ where: { target: `report_export:${record.id}` }, orderBy: { seq: "asc" } });
    expect(events.map((e) => e.action)).toEqual(["report.export_started", "report.export_completed"]);
    expect((events[1].data as { sha256: string }).sha256).toBe(sha(bytes));
  });

  test("as of now (the default) leaves out revoked and expired grants; a team filter narrows it", async () => {
    const { bytes } = await exportAll(auditor, "inventory", "csv");
    const ids = csvObjects(bytes.toString()).map((r) => r["Grant id"]);
    const expected = await client.grant.findMany({ where: { status: "active" }, select: { id: true } });
    expect(ids.sort()).toEqual(expected.map((x) => x.id).sort());
    expect(ids).not.toContain(g.carolRead); // revoked by the campaign
    const team = csvObjects((await exportAll(auditor, "inventory", "csv", { team: "payments" })).bytes.toString());
    expect(team.every((r) => r.Team === "payments")).toBe(true);
    expect(team.length).toBe(2); // bob's two grants
  });

  test("bad filters are a 400 naming the field, and nothing is recorded", async () => {
    const before = [await client.reportExport.count(), await client.auditEvent.count()];
    await expectError(startExport(auditor, { report: "inventory", format: "csv", filters: { asOf: "2026-02-30" } }, { client, pool }), 400, "asOf");
    await expectError(startExport(auditor, { report: "inventory", format: "csv", filters: { asOf: "2999-01-01" } }, { client, pool }), 400, "asOf");
    await expectError(startExport(auditor, { report: "inventory", format: "csv", filters: { asof: "2026-01-01" } }, { client, pool }), 400, "asof");
    await expectError(startExport(auditor, { report: "revocations", format: "csv", filters: { from: "2026-05-02", to: "2026-05-01" } }, { client, pool }), 400, "to");
    await expectError(startExport(auditor, { report: "inventory", format: "xlsx", filters: {} }, { client, pool }), 400, "format");
    await expectError(startExport(auditor, { report: "salaries", format: "csv", filters: {} }, { client, pool }), 400, "report");
    await expectError(startExport(auditor, { report: "campaign", format: "csv", filters: { campaignId: "nope" } }, { client, pool }), 400, "campaignId");
    await expectError(startExport(auditor, { report: "campaign", format: "csv", filters: { campaignId: "00000000-0000-4000-8000-000000000000" } }, { client, pool }), 404);
    expect([await client.reportExport.count(), await client.auditEvent.count()]).toEqual(before);
  });

  test("reviewers, managers and a token without the scope get 403 and nothing is recorded", async () => {
    const before = [await client.reportExport.count(), await client.auditEvent.count()];
    const noScope: Actor = { kind: "service", tokenId: "00000000-0000-4000-8000-000000000001", name: "ci", scopes: ["proxy:sync"] };
    for (const actor of [reviewer.actor, manager.actor, noScope]) {
      await expectError(startExport(actor, { report: "inventory", format: "csv", filters: {} }, { client, pool }), 403);
    }
    expect([await client.reportExport.count(), await client.auditEvent.count()]).toEqual(before);
  });
});

describe("revocations, exceptions, audit chain", () => {
  test("the revocations log (JSON) has both revokes with decider, justification and the proxy's acknowledged revision", async () => {
    const { bytes, record } = await exportAll(auditor, "revocations", "json");
    const doc = JSON.parse(bytes.toString()) as { rows: Record<string, unknown>[]; rowCount: number; exportId: string };
    expect(doc.exportId).toBe(record.id);
    expect(record.sha256).toBe(sha(bytes));
    expect(doc.rowCount).toBe(2);
    const queue = doc.rows.find((r) => r.decisionId === revokeDecisionId)!;
    const outbox = await client.outboxItem.findFirstOrThrow({ where: { decisionId: revokeDecisionId } });
    const decision = await client.decision.findUniqueOrThrow({ where: { id: revokeDecisionId } });
    expect(queue).toMatchObject({
      source: "queue",
      kind: "revoke",
      grantId: g.aliceRead,
      decider: reviewer.user.email,
      justification: "unused for 200 days",
      enforcement: "applied",
      enforcedAt: decision.enforcedAt!.toISOString(),
      verifiedRemovedAt: decision.verifiedRemovedAt!.toISOString(),
      proxyRevisions: `prod-edge@${outbox.appliedRevision}`,
    });
    const fromCampaign = doc.rows.find((r) => r.source === "campaign")!;
    expect(fromCampaign).toMatchObject({ campaignItemId: campaignRevokeItem, grantId: g.carolRead, decider: manager.user.email, enforcement: "applied" });
  });

  test("the exceptions register lists the approved finding with its re-review date and the campaign keep of a risky grant", async () => {
    const { bytes } = await exportAll(auditor, "exceptions", "csv");
    const rows = csvObjects(bytes.toString());
    expect(rows).toHaveLength(2);
    const finding = await client.finding.findUniqueOrThrow({ where: { id: approvedFindingId } });
    expect(rows.find((r) => r["Finding id"] === approvedFindingId)).toMatchObject({
      Source: "review queue",
      "Finding rule": "over_privileged",
      "Approved by": reviewer.user.email,
      Justification: "needed for quarter-end close",
      "Re-review by": finding.reReviewAt!.toISOString(),
      "Re-review overdue": "false",
    });
    expect(rows.find((r) => r["Campaign item id"] === campaignKeepItem)).toMatchObject({
      Source: "campaign keep",
      "Finding rule": "privileged_service",
      "Approved by": manager.user.email,
      Justification: "billing runs need it every night",
    });
  });

  test("the audit-chain report states the verification result and the head hash", async () => {
    const { bytes, record } = await exportAll(auditor, "audit-chain", "json");
    const [row] = (JSON.parse(bytes.toString()) as { rows: Record<string, unknown>[] }).rows;
    const head = await client.auditEvent.findFirstOrThrow({ where: { seq: { lt: (await client.auditEvent.findFirstOrThrow({ where: { target: `report_export:${record.id}`, action: "report.export_completed" } })).seq } }, orderBy: { seq: "desc" } });
    // Verified inside the export: every event up to (and including) its own "started" event.
    expect(row).toMatchObject({ intact: true, headHash: head.hash, firstBrokenSeq: null });
    expect(row.eventsChecked).toBe(await client.auditEvent.count({ where: { seq: { lte: head.seq } } }));
  });
});

describe("campaign report", () => {
  test("every item with its reviewer, decision, justification and enforcement acknowledgement", async () => {
    const { bytes, record } = await exportAll(auditor, "campaign", "csv", { campaignId });
    const rows = csvObjects(bytes.toString());
    const items = await client.campaignItem.findMany({ where: { campaignId } });
    expect(rows.map((r) => r["Item id"]).sort()).toEqual(items.map((i) => i.id).sort());
    expect(record.rowCount).toBe(items.length);
    const revoked = rows.find((r) => r["Item id"] === campaignRevokeItem)!;
    const d = await client.decision.findFirstOrThrow({ where: { campaignItemId: campaignRevokeItem }, include: { outbox: true } });
    expect(revoked).toMatchObject({
      Decision: "revoke",
      Justification: "carol left the payments project",
      "Decided by": manager.user.email,
      Enforcement: "applied",
      "Enforced at": d.enforcedAt!.toISOString(),
      "Verified removed at": d.verifiedRemovedAt!.toISOString(),
      "Proxy revisions": `prod-edge@${d.outbox[0].appliedRevision}`,
    });
    expect(revoked.Reviewers).toContain(`${manager.user.email} (named)`);
    const undecided = rows.filter((r) => r.Decision === "");
    expect(undecided.length).toBe(items.filter((i) => i.decision === null).length);
  });

  test("the PDF summary is text whose figures match the database", async () => {
    const { result, bytes, record } = await exportAll(auditor, "campaign", "pdf", { campaignId });
    expect(result.sha256).toBe(sha(bytes));
    expect(record).toMatchObject({ status: "completed", sha256: sha(bytes), format: "pdf" });
    const dir = await mkdtemp(path.join(os.tmpdir(), "tollgate-pdf-"));
    try {
      await writeFile(path.join(dir, "r.pdf"), bytes);
      // Kept for people to look at (pdftoppm) when asked.
      if (process.env.TOLLGATE_KEEP_PDF) await writeFile(process.env.TOLLGATE_KEEP_PDF, bytes);
      const { stdout } = await promisify(execFile)("pdftotext", ["-layout", path.join(dir, "r.pdf"), "-"]);
      const text = stdout.replace(/[ \t]+/g, " ");
      const items = await client.campaignItem.findMany({ where: { campaignId } });
      const campaign = await client.campaign.findUniqueOrThrow({ where: { id: campaignId } });
      const decided = items.filter((i) => i.decision !== null).length;
      expect(text).toContain(`Items ${items.length}`);
      expect(text).toContain(`Decided ${decided}`);
      expect(text).toContain(`Completion (%) ${Math.round((decided / items.length) * 1000) / 10}`);
      expect(text).toContain(`keep ${items.filter((i) => i.decision === "keep").length}`);
      expect(text).toContain(`revoke ${items.filter((i) => i.decision === "revoke").length}`);
      expect(text).toContain(`undecided ${items.length - decided}`);
      expect(text).toContain(`${manager.user.email} ${decided}`);
      expect(text).toContain(`Snapshot SHA-256: ${campaign.snapshotSha256}`);
      expect(text).toContain(`Export id: ${record.id}`);

      // The campaign's name is in the title; every page carries "page n of m", the export id and the data hash.
      expect(text).toContain(`Campaign report: ${campaign.name} (${campaign.period})`);
      const { campaignReport } = await import("./campaign");
      const dataSha = summaryDataSha256(await campaignReport.summary(client, { campaignId }));
      const pages = text.split("\f").filter((p) => p.trim());
      expect(pages.length).toBeGreaterThanOrEqual(2);
      pages.forEach((page, i) => {
        const flat = page.replace(/\s+/g, " ");
        expect(flat).toContain(`Page ${i + 1} of ${pages.length}`);
        expect(flat).toContain(`Export ${record.id}`);
        expect(flat).toContain(`Data SHA-256 ${dataSha}`);
      });
      // The revoked item, listed with its decision id, decider, proxy revision and verified-removed time.
      const d = await client.decision.findFirstOrThrow({ where: { campaignItemId: campaignRevokeItem }, include: { outbox: true } });
      const revokeLine = text.split("\n").find((l) => l.includes(d.id));
      expect(revokeLine).toBeDefined();
      expect(revokeLine).toContain("revoke carol");
      expect(revokeLine).toContain(manager.user.email);
      expect(revokeLine).toContain(`prod-edge@${d.outbox[0].appliedRevision}`);
      expect(revokeLine).toContain(d.verifiedRemovedAt!.toISOString().slice(0, 19).replace("T", " "));
      // The kept item is not a removal, so it is not in the table.
      const kept = await client.campaignItem.findUniqueOrThrow({ where: { id: campaignKeepItem } });
      expect(text.split("\n").filter((l) => l.includes(kept.principalName) && l.includes("keep"))).toHaveLength(0);
      expect(text).toContain("Completion over time (% of items decided)");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("CSV through COPY", () => {
  test("is byte-identical to the JS encoder over the same rows, awkward names included", async () => {
    const env = await client.environment.findFirstOrThrow({ where: { name: "prod" } });
    const scope = await client.scope.findFirstOrThrow({ where: { level: "read" } });
    const names = ["with,comma", 'say "hi"', "multi\nline", "cr\rlone", "crlf\r\nx", "=SUM(A1)", "+1", "-2", "@x", "\ttab", "\\.", "ünïcödé ✓", " spaced "];
    for (const name of names) {
      const p = await makePrincipal(client, { name });
      await makeGrant(client, { principalId: p.id, scopeId: scope.id, environmentId: env.id, grantedAt: daysAgo(3) });
    }
    const { bytes, record } = await exportAll(auditor, "inventory", "csv");
    const filters = inventoryReport.filters.parse({});
    if (!inventoryReport.query) throw new Error("the inventory report is expected to be a SQL report");
    const query = inventoryReport.query(filters);
    const counter = { rows: 0 };
    const parts: Buffer[] = [];
    for await (const c of csvChunks(inventoryReport.columns, withSnapshot(pool, (conn) => cursorBatches(conn, query)), counter)) parts.push(Buffer.from(c));
    const reference = Buffer.concat(parts).toString();
    // Postgres quotes a lone "\." (its old end-of-data marker); the JS encoder does not. Both read back the same.
    // The audit evidence trailer (lib/reports/evidence.ts) follows the records and is not part of the comparison.
    const records = bytes.toString().replace(/# tollgate-[^\r\n]*\r\n/g, "");
    expect(bytes.toString()).toMatch(/\r\n# tollgate-audit-position export=\S+ event_seq=\d+ event_hash=[0-9a-f]{64}\r\n# tollgate-[^\r\n]*\r\n$/);
    expect(records.replace('"\\."', "\\.")).toBe(reference);
    expect(record.rowCount).toBe(counter.rows);
    const rows = csvObjects(bytes.toString());
    for (const name of names) expect(rows.some((r) => r.Principal === (/^[=+\-@\t\r]/.test(name) ? `'${name}` : name))).toBe(true);
  });
});

describe("streaming outcomes", () => {
  test("a download aborted mid-stream is recorded as failed and its database connection is returned", async () => {
    // Enough rows for several cursor batches.
    const env = await client.environment.findFirstOrThrow({ where: { name: "prod" } });
    const scope = await client.scope.findFirstOrThrow({ where: { level: "read" } });
    await client.$executeRaw`
      WITH p AS (
        INSERT INTO "Principal" (id, kind, "displayName", "updatedAt")
        SELECT gen_random_uuid(), 'api_key', 'key-' || i, now() FROM generate_series(1, 12000) i RETURNING id)
      INSERT INTO "Grant" (id, "principalId", "scopeId", "environmentId", "grantedAt")
      SELECT gen_random_uuid(), p.id, ${scope.id}::uuid, ${env.id}::uuid, now() - interval '50 days' FROM p`;
    const result: ExportResult = await startExport(auditor, { report: "inventory", format: "csv", filters: {} }, { client, pool });
    const reader = result.body.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel("client went away");
    const record = await until("failed record", () => client.reportExport.findUniqueOrThrow({ where: { id: result.exportId } }), (r) => r.status !== "running");
    expect(record).toMatchObject({ status: "failed", error: "download aborted before the end", sha256: null });
    expect(record.rowCount).toBeLessThan(12_000);
    await until("connection back in the pool", async () => [pool.totalCount, pool.idleCount], ([t, i]) => t === i);
    expect((await client.auditEvent.findFirstOrThrow({ where: { target: `report_export:${result.exportId}`, action: "report.export_failed" } })).data).toMatchObject({ status: "failed" });
  });

  test("a stream whose source fails is recorded as failed with the error", async () => {
    const started = await recordExportStart(client, auditor, { report: "inventory", format: "csv", filters: {} });
    async function* broken() {
      yield Buffer.from("a,b\r\n");
      throw new Error("connection reset by peer");
    }
    const body = hashingStream(broken(), { rows: 1 }, (o) => recordExportEnd(client, auditor, started.id, o));
    await expect(readAll(body)).rejects.toThrow("connection reset by peer");
    expect(await client.reportExport.findUniqueOrThrow({ where: { id: started.id } })).toMatchObject({ status: "failed", error: "connection reset by peer", sha256: null });
  });

  test("an export left running by a stopped server is failed after 6 hours, with an audit event; a live one is not", async () => {
    const cut = await recordExportStart(client, auditor, { report: "inventory", format: "csv", filters: {} });
    const live = await recordExportStart(client, auditor, { report: "inventory", format: "csv", filters: {} });
    await client.reportExport.update({ where: { id: cut.id }, data: { startedAt: new Date(Date.now() - ABANDONED_AFTER_MS - 60_000) } });
    expect(await failAbandonedExports(client, new Date())).toBeGreaterThanOrEqual(1);
    expect(await client.reportExport.findUniqueOrThrow({ where: { id: cut.id } })).toMatchObject({ status: "failed", error: expect.stringMatching(/did not finish within 6 h/) });
    expect((await client.reportExport.findUniqueOrThrow({ where: { id: live.id } })).status).toBe("running");
    const ev = await client.auditEvent.findFirstOrThrow({ where: { target: `report_export:${cut.id}`, action: "report.export_failed" } });
    expect(ev.actor).toBe("system:export-maintenance");
    expect(await failAbandonedExports(client, new Date())).toBe(0);
    await recordExportEnd(client, auditor, live.id, { status: "failed", rowCount: 0, byteCount: 0, error: "test cleanup" });
  });

  test("the route handler streams to a reports:export service token, names the export, and refuses bad filters with 400", async () => {
    const token = (await createServiceToken(systemActor("test"), { name: "evidence-bot", scopes: ["reports:export"] }, client)).token;
    const route = await import("@/app/api/v1/reports/[report]/route");
    const ctx = (report: string) => ({ params: Promise.resolve({ report }) });
    const res = await route.GET(new Request("http://localhost/api/v1/reports/exceptions?format=csv", { headers: { authorization: `Bearer ${token}` } }), ctx("exceptions"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="tollgate-exceptions-/);
    const bytes = Buffer.from(await res.arrayBuffer());
    const exportId = res.headers.get("x-tollgate-export-id")!;
    const recordRoute = await import("@/app/api/v1/reports/exports/[id]/route");
    const rec = await recordRoute.GET(new Request(`http://localhost/api/v1/reports/exports/${exportId}`, { headers: { authorization: `Bearer ${token}` } }), { params: Promise.resolve({ id: exportId }) });
    expect(await rec.json()).toMatchObject({ id: exportId, status: "completed", sha256: sha(bytes), actor: "service:evidence-bot" });

    const pdf = await route.GET(new Request(`http://localhost/api/v1/reports/inventory?format=pdf`, { headers: { authorization: `Bearer ${token}` } }), ctx("inventory"));
    const pdfBytes = Buffer.from(await pdf.arrayBuffer());
    expect(pdf.headers.get("x-tollgate-sha256")).toBe(sha(pdfBytes));
    expect(pdfBytes.subarray(0, 5).toString()).toBe("%PDF-");

    const bad = await route.GET(new Request("http://localhost/api/v1/reports/inventory?format=csv&asOf=yesterday", { headers: { authorization: `Bearer ${token}` } }), ctx("inventory"));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "bad_request", field: "asOf" } });
  });
});
