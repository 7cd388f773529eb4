import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import type { Actor } from "@/lib/auth/actor";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { csvObjects } from "@/test/support/csv";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { checkCheckpoint, encodeCheckpointToken, extractCheckpointTokens, signCheckpoint } from "@/lib/audit/checkpoint";
import { ensureSigningKeyFile, signerFromPem } from "@/lib/audit/signing";
import { closeReportPool } from "./cursor";
import { startExport } from "./export";
import { auditVerify } from "@/test/support/audit-verify";

// Every export carries the latest signed checkpoint and its own place in the
// chain; an auditor verifies it from the file alone with the public key, using
// the exact recipe printed in docs/SECURITY.md.

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), "tollgate-evidence-"));
const keyFile = path.join(tmp, "audit-signing-key.pem");
const signer = ensureSigningKeyFile(keyFile);
const pubFile = path.join(tmp, "audit-public-key.pem");
writeFileSync(pubFile, signer.publicKeyPem);
const cpDir = path.join(tmp, "checkpoints");
process.env.TOLLGATE_AUDIT_SIGNING_KEY_FILE = keyFile;
process.env.TOLLGATE_AUDIT_CHECKPOINT_DIR = cpDir;

let auditor: Actor;
let tdb: TestDatabase;
let client: PrismaClient;
let pool: pg.Pool;

async function exportFile(report: string, format: string): Promise<{ file: string; bytes: Buffer; exportId: string }> {
  const result = await startExport(auditor, { report, format, filters: {} }, { client, pool });
  const parts: Buffer[] = [];
  for await (const chunk of result.body as unknown as AsyncIterable<Uint8Array>) parts.push(Buffer.from(chunk));
  const bytes = Buffer.concat(parts);
  const file = path.join(tmp, result.filename);
  writeFileSync(file, bytes);
  return { file, bytes, exportId: result.exportId };
}

/** The recipe exactly as docs/SECURITY.md prints it, run by sh in the directory holding the public key. */
function recipe(): string {
  const doc = readFileSync(path.join(process.cwd(), "docs", "SECURITY.md"), "utf8");
  const m = /<!-- verify-export-recipe -->\n```sh\n(.+)\n```/.exec(doc);
  if (!m) throw new Error("docs/SECURITY.md has no verify-export-recipe block");
  return m[1];
}

async function runRecipe(exportPath: string): Promise<{ code: number; out: string }> {
  const cmd = recipe().replace(/EXPORT_FILE$/, JSON.stringify(exportPath));
  try {
    const r = await run("sh", ["-c", cmd], { cwd: tmp });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  pool = new pg.Pool({ connectionString: tdb.url, max: 2 });
  auditor = (await makeReviewer(client, ["auditor"])).actor;
  const env = await makeEnvironment(client, "production", "prod");
  const { scopes } = await makeApi(client, env.id, ["read"], { name: "orders" });
  const alice = await makePrincipal(client, { name: "alice" });
  await makeGrant(client, { principalId: alice.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(10) });
  // A display name (from an IdP, say) imitating a token: it lands in the data, before the export's own token.
  const mimic = await makePrincipal(client, { name: `tollgate-checkpoint:${Buffer.from('{"fake":1}').toString("base64url")}` });
  await makeGrant(client, { principalId: mimic.id, scopeId: scopes.read.id, environmentId: env.id, grantedAt: daysAgo(9) });
});

afterAll(async () => {
  await pool?.end();
  await closeReportPool();
  await client?.$disconnect();
  await tdb?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("exports carry a signed checkpoint", () => {
  test("CSV: trailer with the export's position and a checkpoint covering it; the SECURITY.md recipe verifies it from the file alone", async () => {
    const { file, bytes, exportId } = await exportFile("inventory", "csv");
    const text = bytes.toString("utf8");
    // The data rows are unaffected; the trailer is two "#" lines at the end.
    expect(csvObjects(text)).toHaveLength(2);
    const lines = text.trimEnd().split("\r\n");
    const event = await client.auditEvent.findFirstOrThrow({ where: { action: "report.export_started", target: `report_export:${exportId}` } });
    expect(lines.at(-2)).toBe(`# tollgate-audit-position export=${exportId} event_seq=${event.seq} event_hash=${event.hash}`);
    expect(lines.at(-1)).toMatch(/^# tollgate-checkpoint:[A-Za-z0-9_-]+$/);
    const [token] = extractCheckpointTokens(text);
    expect(token.export).toEqual({ exportId, eventSeq: String(event.seq), eventHash: event.hash });
    const check = checkCheckpoint(token, [signer.publicKey]);
    expect(check.ok).toBe(true);
    if (check.ok) expect(check.fields.seq >= event.seq).toBe(true);
    // The checkpoint was also published: in the database and the append-only file.
    expect(await client.auditCheckpoint.count({ where: { message: token.message, reason: "export" } })).toBe(1);
    expect(readFileSync(path.join(cpDir, "audit-checkpoints.jsonl"), "utf8")).toContain(token.message);

    const r = await runRecipe(file);
    expect(r.out.trim()).toBe(`GOOD ${token.message} export_event_seq=${event.seq}`);
    expect(r.code).toBe(0);
  });

  test("PDF: the same token in the document information dictionary; the recipe verifies it", async () => {
    const { file, bytes } = await exportFile("inventory", "pdf");
    const tokens = extractCheckpointTokens(bytes.toString("latin1"));
    expect(tokens.length).toBeGreaterThanOrEqual(1);
    expect(checkCheckpoint(tokens[0], [signer.publicKey]).ok).toBe(true);
    const r = await runRecipe(file);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^GOOD tollgate-audit-checkpoint\/1 seq=\d+ head=[0-9a-f]{64} at=\S+ key=ed25519:[0-9a-f]{16} export_event_seq=\d+/);
  });

  test("the openssl recipe in docs/SECURITY.md verifies a checkpoint, and fails a tampered one", async () => {
    const { bytes } = await exportFile("inventory", "csv");
    const [token] = extractCheckpointTokens(bytes.toString("utf8"));
    const doc = readFileSync(path.join(process.cwd(), "docs", "SECURITY.md"), "utf8");
    const cmd = /<!-- verify-openssl-recipe -->\n```sh\n(.+)\n```/.exec(doc)![1];
    writeFileSync(path.join(tmp, "sig.b64"), token.signature);
    writeFileSync(path.join(tmp, "message.txt"), token.message);
    const good = await run("sh", ["-c", cmd], { cwd: tmp });
    expect(good.stdout).toMatch(/Signature Verified Successfully/);
    writeFileSync(path.join(tmp, "message.txt"), token.message.replace("seq=", "seq=9"));
    await expect(run("sh", ["-c", cmd], { cwd: tmp })).rejects.toMatchObject({ stdout: expect.stringMatching(/Signature Verification Failure/) });
  });

  test("JSON: the auditEvidence member (last, after rowCount) holds position, checkpoint and token; the recipe verifies it", async () => {
    const { bytes, exportId, file } = await exportFile("inventory", "json");
    expect(bytes.toString("utf8")).toMatch(/"rowCount":2,"auditEvidence":\{.*\}\}\n$/);
    expect((await runRecipe(file)).code).toBe(0);
    const doc = JSON.parse(bytes.toString("utf8")) as { auditEvidence: { position: { exportId: string }; checkpoint: { message: string }; token: string } };
    expect(doc.auditEvidence.position.exportId).toBe(exportId);
    expect(extractCheckpointTokens(doc.auditEvidence.token)[0].message).toBe(doc.auditEvidence.checkpoint.message);
  });

  test("a tampered checkpoint fails: the recipe says BAD SIGNATURE, verification names the bad signature", async () => {
    const { bytes } = await exportFile("inventory", "csv");
    const token = extractCheckpointTokens(bytes.toString("utf8")).at(-1)!;
    // Claim a later head: the message changes, the signature does not.
    const forged = { ...token, message: token.message.replace(/seq=(\d+)/, (_, n: string) => `seq=${BigInt(n) + 5n}`) };
    const file = path.join(tmp, "tampered.csv");
    writeFileSync(file, bytes.toString("utf8").replace(/# tollgate-checkpoint:[A-Za-z0-9_-]+/, `# ${encodeCheckpointToken(forged)}`));
    const r = await runRecipe(file);
    expect(r.code).toBe(1);
    expect(r.out.trim()).toBe("BAD SIGNATURE");
    const check = checkCheckpoint(forged, [signer.publicKey]);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem).toMatch(/^bad signature: the signature does not verify with key ed25519:/);
  });

  test("a checkpoint signed by another key is rejected, named by its key id, by the recipe and by audit:verify", async () => {
    const other = signerFromPem(generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const head = await client.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    const foreign = signCheckpoint(other, { seq: head.seq, headHash: head.hash });
    const check = checkCheckpoint(foreign, [signer.publicKey]);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem).toBe(`signed by key ${other.keyId}, which is not the trusted audit key (${signer.keyId}): rejected`);

    const file = path.join(tmp, "foreign.csv");
    writeFileSync(file, `a\r\n1\r\n# ${encodeCheckpointToken({ ...foreign, export: { exportId: "x", eventSeq: "1", eventHash: "0".repeat(64) } })}\r\n`);
    expect((await runRecipe(file)).out.trim()).toBe("BAD SIGNATURE");

    const cli = await verifyCli(["--checkpoints", file]);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`checkpoint from file ${file} (seq ${head.seq}, `);
    expect(cli.out).toContain(`signed by key ${other.keyId}, which is not the trusted audit key`);
  }, 180_000); // runs audit:verify

  test("an export kept by an auditor proves a later truncation, with every other checkpoint gone", async () => {
    const { file } = await exportFile("inventory", "csv");
    const [token] = extractCheckpointTokens(readFileSync(file, "utf8"));
    const seq = BigInt(/seq=(\d+)/.exec(token.message)![1]);
    expect((await verifyCli(["--checkpoints", file])).code).toBe(0);
    // The insider removes the export's events and every checkpoint in the database and the file.
    const c = new pg.Client({ connectionString: tdb.url });
    await c.connect();
    await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`);
    await c.query(`ALTER TABLE "AuditCheckpoint" DISABLE TRIGGER USER`);
    await c.query(`DELETE FROM "AuditEvent" WHERE seq >= $1`, [BigInt(token.export!.eventSeq)]);
    await c.query(`DELETE FROM "AuditCheckpoint"`);
    await c.end();
    rmSync(path.join(cpDir, "audit-checkpoints.jsonl"));
    const r = await verifyCli(["--checkpoints", file]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`events? (${token.export!.eventSeq}–)?${seq} missing: the checkpoint of \\S+, signed by key ${signer.keyId}, names seq ${seq} \\(file ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)`));
  }, 240_000); // runs audit:verify twice on a shared 2-core machine
});

const verifyCli = (args: string[]) => auditVerify({ DATABASE_URL: tdb.url, TOLLGATE_AUDIT_PUBLIC_KEY_FILE: pubFile, TOLLGATE_AUDIT_SIGNING_KEY_FILE: "" }, args);
