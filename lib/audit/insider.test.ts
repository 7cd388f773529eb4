import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { createRuntimeRole, createTestDatabase, type TestDatabase } from "@/test/support/db";
import type { Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "./chain";
import { eventHash, GENESIS_HASH } from "./canonical";
import { createCheckpoint } from "./publish";
import { ensureSigningKeyFile } from "./signing";
import { verifyAuditChainAs } from "./query";
import { auditVerify } from "@/test/support/audit-verify";

// The insider's moves against the audit log, each on a database of its own, each
// caught by `npm run audit:verify` (non-zero exit, naming what is wrong) and by
// the Audit page's data function. Real Postgres, real superuser tampering.

const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-audit-insider-"));
const keyFile = path.join(tmp, "audit-signing-key.pem");
const signer = ensureSigningKeyFile(keyFile);
// The Audit page's function reads the key and the checkpoint directory from the environment, like the app.
process.env.TOLLGATE_AUDIT_SIGNING_KEY_FILE = keyFile;
const auditor: Actor = { kind: "user", userId: "u-aud", email: "auditor@example.test", name: "Auditor", roles: ["auditor"], principalId: null };

interface Scenario {
  tdb: TestDatabase;
  client: PrismaClient;
  dir: string;
  seqs: bigint[];
  checkpointSeq: bigint;
}
const open: Scenario[] = [];

async function scenario(events = 20): Promise<Scenario> {
  const tdb = await createTestDatabase();
  const client = createDb(tdb.url, 2);
  const dir = mkdtempSync(path.join(tmp, "cp-"));
  const seqs: bigint[] = [];
  for (let i = 0; i < events; i++) {
    const e = await client.$transaction((tx) => appendAuditEvent(tx, { actor: auditor, action: "test.insider", target: `item:${i}`, data: { i } }));
    seqs.push(e.seq);
  }
  const cp = await createCheckpoint(client, { signer, dir, reason: "manual", proxies: [], awaitDurable: true });
  const s = { tdb, client, dir, seqs, checkpointSeq: cp!.seq };
  open.push(s);
  return s;
}

async function superuser(s: Scenario, sql: string[], params: unknown[][] = []): Promise<void> {
  const c = new pg.Client({ connectionString: s.tdb.url });
  await c.connect();
  try {
    await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`);
    await c.query(`ALTER TABLE "AuditCheckpoint" DISABLE TRIGGER USER`);
    for (let i = 0; i < sql.length; i++) await c.query(sql[i], params[i] ?? []);
    await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER USER`);
    await c.query(`ALTER TABLE "AuditCheckpoint" ENABLE TRIGGER USER`);
  } finally {
    await c.end();
  }
}

const cli = (s: Scenario, args: string[] = []) =>
  auditVerify({ DATABASE_URL: s.tdb.url, TOLLGATE_AUDIT_SIGNING_KEY_FILE: keyFile, TOLLGATE_AUDIT_CHECKPOINT_DIR: s.dir }, args);

async function page(s: Scenario) {
  process.env.TOLLGATE_AUDIT_CHECKPOINT_DIR = s.dir;
  return verifyAuditChainAs(auditor, s.client);
}

beforeAll(() => undefined);
afterAll(async () => {
  for (const s of open) {
    await s.client.$disconnect();
    await s.tdb.drop();
  }
  rmSync(tmp, { recursive: true, force: true });
});

// Each test makes a database and runs audit:verify as a child process: about a minute at load 40 on 2 cores.
describe("insider actions against the audit log", { timeout: 180_000 }, () => {
  test("an untouched log with its checkpoint verifies (exit 0) and the page says intact", async () => {
    const s = await scenario(5);
    const r = await cli(s);
    expect(r.out).toMatch(/audit chain OK: 5 events verified/);
    expect(r.out).toMatch(/checkpoints OK: 2 checked/); // the database's and the file's copy
    expect(r.code).toBe(0);
    const v = await page(s);
    expect(v.ok).toBe(true);
    expect(v.checkpoints.filter((c) => c.status === "ok")).toHaveLength(2);
  }, 180_000); // the first audit:verify run also compiles it; a shared 2-core machine

  test("updating a middle event is named: the event and 'modified'", async () => {
    const s = await scenario();
    const target = s.seqs[9];
    await superuser(s, [`UPDATE "AuditEvent" SET data = '{"i": 999}' WHERE seq = $1`], [[target]]);
    const r = await cli(s);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`audit chain BROKEN at event seq=${target}`);
    expect(r.out).toMatch(/the event was modified/);
    const v = await page(s);
    expect(v.ok).toBe(false);
    expect(v.chain.firstBroken).toMatchObject({ seq: String(target) });
    expect(v.problems[0]).toMatch(/modified/);
  });

  test("deleting a middle event is named: the link after it breaks", async () => {
    const s = await scenario();
    const gone = s.seqs[9];
    await superuser(s, [`DELETE FROM "AuditEvent" WHERE seq = $1`], [[gone]]);
    const r = await cli(s);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`audit chain BROKEN at event seq=${s.seqs[10]}`);
    expect(r.out).toMatch(/an event was removed/);
    const v = await page(s);
    expect(v.ok).toBe(false);
    expect(v.chain.firstBroken?.seq).toBe(String(s.seqs[10]));
  });

  test("deleting the last 5 events is named as truncation below the signed checkpoint", async () => {
    const s = await scenario();
    const first = s.seqs[15];
    const last = s.seqs[19];
    await superuser(s, [`DELETE FROM "AuditEvent" WHERE seq >= $1`], [[first]]);
    const r = await cli(s);
    expect(r.code).toBe(1);
    // The chain that is left is consistent: only the checkpoint can tell.
    expect(r.out).not.toMatch(/BROKEN at event/);
    expect(r.out).toContain(`events ${first}–${last} missing: the checkpoint of `);
    expect(r.out).toContain(`signed by key ${signer.keyId}, names seq ${last}`);
    const v = await page(s);
    expect(v.ok).toBe(false);
    expect(v.chain.ok).toBe(true);
    expect(v.checkpoints.filter((c) => c.status === "truncated")).toHaveLength(2);
    expect(v.problems[0]).toContain(`events ${first}–${last} missing`);
  });

  test("deleting everything and re-inserting a consistent re-hashed chain (checkpoint rows deleted too) is named as a rewrite, from the checkpoint file", async () => {
    const s = await scenario();
    const rows = await s.client.auditEvent.findMany({ orderBy: { seq: "asc" } });
    // The insider hides events 8 and 9 and re-chains the rest, keeping their seqs.
    const kept = rows.filter((_, i) => i !== 7 && i !== 8);
    let prev = GENESIS_HASH;
    const rewritten = kept.map((r) => {
      const hash = eventHash(prev, r);
      const row = { ...r, prevHash: prev, hash };
      prev = hash;
      return row;
    });
    const inserts = rewritten.map(
      () => `INSERT INTO "AuditEvent" (seq, id, at, actor, action, target, data, "prevHash", hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    );
    await superuser(
      s,
      [`DELETE FROM "AuditCheckpoint"`, `DELETE FROM "AuditEvent"`, ...inserts],
      [[], [], ...rewritten.map((r) => [r.seq, r.id, r.at, r.actor, r.action, r.target, JSON.stringify(r.data), r.prevHash, r.hash])],
    );
    const r = await cli(s);
    expect(r.code).toBe(1);
    expect(r.out).not.toMatch(/BROKEN at event/); // the new chain is internally consistent
    expect(r.out).toContain(`the log was rewritten: the checkpoint of `);
    expect(r.out).toContain(`names seq ${s.checkpointSeq} with hash `);
    expect(r.out).toContain(`file ${path.join(s.dir, "audit-checkpoints.jsonl")}`);
    const v = await page(s);
    expect(v.ok).toBe(false);
    expect(v.checkpoints.map((c) => c.status)).toEqual(["rewritten"]);
  });

  test("a checkpoint row altered in the database is named as a bad signature by audit:verify and the page", async () => {
    const s = await scenario(4);
    await superuser(s, [`UPDATE "AuditCheckpoint" SET message = replace(message, 'seq=', 'seq=1')`]);
    const r = await cli(s);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/checkpoint from database \(seq 1\d+, \S+\): bad signature: the signature does not verify with key ed25519:[0-9a-f]{16} \(the checkpoint was altered or forged\)/);
    const v = await page(s);
    expect(v.ok).toBe(false);
    expect(v.checkpoints.map((c) => c.status).sort()).toEqual(["ok", "rejected"]); // the file's copy still matches
  });

  test("--expect-head from an auditor's notes catches a rewrite even with every checkpoint gone", async () => {
    const s = await scenario(6);
    const head = await s.client.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    const ok = await cli(s, ["--expect-head", `${head.seq}:${head.hash}`]);
    expect(ok.code).toBe(0);
    await superuser(s, [`DELETE FROM "AuditCheckpoint"`, `DELETE FROM "AuditEvent" WHERE seq = $1`], [[], [head.seq]]);
    rmSync(path.join(s.dir, "audit-checkpoints.jsonl"));
    const r = await cli(s, ["--expect-head", `${head.seq}:${head.hash}`]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`event ${head.seq} missing: the expected head from --expect-head ${head.seq} names seq ${head.seq}`);
    const bad = await cli(s, ["--expect-head", "12:nothex"]);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--expect-head: must be <seq>:<64 hex hash>/);
  }, 180_000); // three runs of audit:verify on a shared 2-core machine
});

describe("the runtime role", () => {
  test("cannot disable the append-only trigger, nor update, delete or truncate events; it can append", async () => {
    const s = await scenario(3);
    const rt = await createRuntimeRole(s.tdb);
    const c = new pg.Client({ connectionString: rt.url });
    await c.connect();
    try {
      expect((await c.query(`SELECT current_user AS u`)).rows[0].u).toBe(rt.role);
      await expect(c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`)).rejects.toThrow(/must be owner of table AuditEvent/);
      await expect(c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER ALL`)).rejects.toThrow(/must be owner/);
      await expect(c.query(`DROP TRIGGER "AuditEvent_append_only" ON "AuditEvent"`)).rejects.toThrow(/must be owner/);
      await expect(c.query(`UPDATE "AuditEvent" SET actor = 'x'`)).rejects.toThrow(/permission denied/);
      await expect(c.query(`DELETE FROM "AuditEvent"`)).rejects.toThrow(/permission denied/);
      await expect(c.query(`TRUNCATE "AuditEvent"`)).rejects.toThrow(/permission denied/);
      await expect(c.query(`DELETE FROM "AuditCheckpoint"`)).rejects.toThrow(/permission denied/);
      await expect(c.query(`CREATE OR REPLACE FUNCTION tollgate_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`)).rejects.toThrow(/must be owner|permission denied/);
    } finally {
      await c.end();
    }
    // The app, connected as the runtime role, still appends and checkpoints.
    const app = createDb(rt.url, 2);
    try {
      await app.$transaction((tx) => appendAuditEvent(tx, { actor: auditor, action: "test.as_runtime", data: {} }));
      expect(await createCheckpoint(app, { signer, dir: s.dir, proxies: [] })).toMatchObject({ created: true });
      // Working tables stay writable for it.
      await app.setting.upsert({ where: { key: "probe" }, create: { key: "probe", value: 1 }, update: { value: 2 } });
    } finally {
      await app.$disconnect();
    }
    // The jobs run as the runtime role too: pg-boss starts and migrates its own schema.
    const { PgBoss } = await import("pg-boss");
    const boss = new PgBoss({ connectionString: rt.url, max: 2 });
    await boss.start();
    await boss.createQueue("audit-test");
    await boss.stop({ graceful: false });
    expect((await cli(s)).code).toBe(0);
    const { checkRuntimeRole } = await import("@/lib/db/runtime-role");
    expect(await checkRuntimeRole(rt.url)).toMatchObject({ role: rt.role, problems: [] });
    const owner = await checkRuntimeRole(s.tdb.url);
    expect(owner.problems.join("\n")).toMatch(/superuser/);
    await rt.drop();
  }, 180_000);
});

describe("Settings", () => {
  test("shows auditors the public half of the signing key, its id and the latest checkpoint; a reviewer is refused", async () => {
    const s = await scenario(2);
    const { auditKeyInfo } = await import("./key-info");
    process.env.TOLLGATE_AUDIT_CHECKPOINT_DIR = s.dir;
    const info = await auditKeyInfo(auditor, s.client);
    expect(info).toMatchObject({ configured: true, error: null, keyId: signer.keyId, publicKeyPem: signer.publicKeyPem, checkpointFile: path.join(s.dir, "audit-checkpoints.jsonl") });
    expect(info.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(info.latest?.message).toMatch(new RegExp(`^tollgate-audit-checkpoint/1 seq=${s.checkpointSeq} `));
    const reviewer: Actor = { ...auditor, roles: ["reviewer"] };
    await expect(auditKeyInfo(reviewer, s.client)).rejects.toMatchObject({ status: 403 });
  });
});
