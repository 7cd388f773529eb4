import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { ADMIN_TOKEN, admin, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { closeAdminPools } from "@/lib/enforcement/admin-client";
import { makeEnvironment } from "@/lib/analysis/fixtures";
import { appendAuditEvent } from "./chain";
import { createCheckpoint } from "./publish";
import { ensureSigningKeyFile } from "./signing";
import { auditVerify } from "@/test/support/audit-verify";

// The proxy as an outside witness: a real proxy process receives each checkpoint,
// keeps it in a journal that survives a restart, and audit:verify reads it back
// to catch a truncation that left no trace in the database or the checkpoint file.

const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-witness-"));
const keyFile = path.join(tmp, "key.pem");
const signer = ensureSigningKeyFile(keyFile);
const stateFile = path.join(tmp, "proxy-state");
const actor = "system:test";
let tdb: TestDatabase;
let client: PrismaClient;
let proxy: ProxyProcess;
let ports: { data: number; admin: number };

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 2);
  ports = { data: await freePort(), admin: await freePort() };
  proxy = await spawnProxy({ PROXY_STATE_FILE: stateFile }, ports);
  const env = await makeEnvironment(client, "production", "prod");
  await client.proxy.create({ data: { name: "witness", adminUrl: proxy.adminUrl, adminToken: ADMIN_TOKEN, environmentId: env.id } });
});

afterAll(async () => {
  await proxy?.stop();
  await closeAdminPools();
  await client?.$disconnect();
  await tdb?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

const cli = () => auditVerify({ DATABASE_URL: tdb.url, TOLLGATE_AUDIT_SIGNING_KEY_FILE: keyFile, TOLLGATE_AUDIT_CHECKPOINT_DIR: "" });

test("the admin API guards the endpoint: token required, a bad body is a 400 naming the field, nothing held yet is a 404", async () => {
  expect((await admin(proxy.adminUrl, "GET", "/admin/v1/audit-checkpoint", undefined, null)).status).toBe(401);
  expect((await admin(proxy.adminUrl, "GET", "/admin/v1/audit-checkpoint")).status).toBe(404);
  const bad = await admin(proxy.adminUrl, "PUT", "/admin/v1/audit-checkpoint", { checkpoint: { message: "hello", signature: "AA==" } });
  expect(bad.status).toBe(400);
  expect(bad.body.error.field).toBe("checkpoint.message");
});

test("every checkpoint reaches the proxy's journal; the latest survives a restart; audit:verify uses it to name a truncation", async () => {
  for (let i = 0; i < 4; i++) await client.$transaction((tx) => appendAuditEvent(tx, { actor, action: "test.witness", data: { i } }));
  const first = await createCheckpoint(client, { signer, dir: null, awaitProxies: true });
  expect(await first!.proxies).toEqual([{ adminUrl: proxy.adminUrl, ok: true }]);
  for (let i = 0; i < 3; i++) await client.$transaction((tx) => appendAuditEvent(tx, { actor, action: "test.witness", data: { i } }));
  const second = await createCheckpoint(client, { signer, dir: null, awaitProxies: true });
  await second!.proxies;
  // An older checkpoint arriving late is journalled but does not replace the latest.
  const late = await admin(proxy.adminUrl, "PUT", "/admin/v1/audit-checkpoint", { checkpoint: first!.checkpoint });
  expect(late).toMatchObject({ status: 200, body: { newest: false, checkpoint: second!.checkpoint } });
  expect(readFileSync(`${stateFile}.audit-checkpoints`, "utf8").trim().split("\n")).toHaveLength(3);

  await proxy.stop();
  proxy = await spawnProxy({ PROXY_STATE_FILE: stateFile }, ports);
  expect(await admin(proxy.adminUrl, "GET", "/admin/v1/audit-checkpoint")).toMatchObject({ status: 200, body: { checkpoint: second!.checkpoint } });
  expect((await cli()).code).toBe(0);

  // The insider cuts the last three events and every checkpoint row; there is no checkpoint file.
  const c = new pg.Client({ connectionString: tdb.url });
  await c.connect();
  await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`);
  await c.query(`ALTER TABLE "AuditCheckpoint" DISABLE TRIGGER USER`);
  await c.query(`DELETE FROM "AuditEvent" WHERE seq > $1`, [first!.seq]);
  await c.query(`DELETE FROM "AuditCheckpoint"`);
  await c.end();
  const r = await cli();
  expect(r.code).toBe(1);
  expect(r.out).toContain(`events ${first!.seq + 1n}–${second!.seq} missing: the checkpoint of `);
  expect(r.out).toContain(`names seq ${second!.seq} (proxy witness)`);
}, 240_000); // two proxy starts and three CLI runs on a shared 2-core machine
