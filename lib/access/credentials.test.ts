import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { makeGrant } from "@/lib/analysis/fixtures";
import { issueKey, revokeAllKeys, revokeKey, rotateKey } from "./credentials";
import { createServiceAccount } from "./service-accounts";
import { KEY_PATTERN } from "./keys";
import { accessWorld, until, type AccessWorld } from "./test-world";

// Keys issued by Tollgate, checked against the REAL proxy (child process) with a real Postgres.
let w: AccessWorld;
const logged: string[] = [];

beforeAll(async () => {
  for (const m of ["log", "info", "warn", "error", "debug"] as const) {
    const orig = console[m].bind(console);
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      orig(...(args as []));
    });
  }
  w = await accessWorld();
  await makeGrant(w.client, { principalId: w.sa.id, scopeId: w.scopes.read.id, environmentId: w.env.id });
  // The grant reaches the proxy through drift repair (the world was synced before it existed).
  const { reconcileProxies } = await import("@/lib/enforcement/reconcile");
  await reconcileProxies(w.client);
}, 180_000);

afterAll(async () => {
  await w?.close();
  vi.restoreAllMocks();
});

const change = (id: string) => w.client.accessChange.findUniqueOrThrow({ where: { id } });
const issued: string[] = [];

describe("API keys issued by Tollgate, enforced by the real proxy", () => {
  test("an issued key works at the proxy at once, its change shows enforced, and only hash + prefix are stored", { timeout: 120_000 }, async () => {
    const k = await issueKey(w.owner.actor, { principalId: w.sa.id }, w.client);
    issued.push(k.key);
    expect(k.key).toMatch(KEY_PATTERN);
    expect(k.key.startsWith("tg_prod_")).toBe(true);
    expect(k.enforcement).toBe("pending");
    await until("200 at the proxy", () => w.get(k.key), (s) => s === 200);
    const c = await until("applied", () => change(k.changeId), (c) => c.enforcement === "applied");
    expect(c.enforcedAt).not.toBeNull();
    const row = await w.client.credential.findUniqueOrThrow({ where: { id: k.credentialId } });
    expect(row.prefix).toBe(k.key.slice(0, 14));
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.origin).toBe("issued");
  });

  test("rotation: old and new key both work during the overlap, only the new one after it", { timeout: 120_000 }, async () => {
    const first = await issueKey(w.manager.actor, { principalId: w.sa.id }, w.client);
    issued.push(first.key);
    await until("first works", () => w.get(first.key), (s) => s === 200);
    const overlapEndsAt = new Date(Date.now() + 4_000);
    const next = await rotateKey(w.owner.actor, { credentialId: first.credentialId, overlapEndsAt }, w.client);
    issued.push(next.key);
    expect(next.overlapEndsAt.getTime()).toBe(overlapEndsAt.getTime());
    await until("new works", () => w.get(next.key), (s) => s === 200);
    expect(await w.get(first.key)).toBe(200); // still inside the overlap
    expect(Date.now()).toBeLessThan(overlapEndsAt.getTime());
    await until("rotation applied", () => change(next.changeId), (c) => c.enforcement === "applied");
    // After the overlap end the proxy refuses the old key by itself (no further message).
    const outboxBefore = await w.client.outboxItem.count();
    await until("old key refused", () => w.get(first.key), (s) => s === 401);
    expect(Date.now()).toBeGreaterThanOrEqual(overlapEndsAt.getTime());
    expect(await w.get(next.key)).toBe(200);
    expect(await w.client.outboxItem.count()).toBe(outboxBefore);
    // A rotated key cannot be rotated again (the replacement can).
    await expect(rotateKey(w.owner.actor, { credentialId: first.credentialId }, w.client)).rejects.toMatchObject({ status: 409 });
  });

  test("revoking one key: that key is 401, the others still work", { timeout: 120_000 }, async () => {
    const a = await issueKey(w.owner.actor, { principalId: w.sa.id }, w.client);
    const b = await issueKey(w.owner.actor, { principalId: w.sa.id }, w.client);
    issued.push(a.key, b.key);
    await until("b works", () => w.get(b.key), (s) => s === 200);
    const r = await revokeKey(w.owner.actor, { credentialId: a.credentialId }, w.client);
    await until("a refused", () => w.get(a.key), (s) => s === 401);
    expect(await w.get(b.key)).toBe(200);
    await until("applied", () => change(r.changeId), (c) => c.enforcement === "applied");
    await expect(revokeKey(w.owner.actor, { credentialId: a.credentialId }, w.client)).rejects.toMatchObject({ status: 409 });
  });

  test("revoke every key of a principal: all 401 at the proxy, one change shown enforced", { timeout: 120_000 }, async () => {
    const live = await w.client.credential.count({ where: { principalId: w.sa.id, revokedAt: null } });
    expect(live).toBeGreaterThanOrEqual(2);
    const r = await revokeAllKeys(w.owner.actor, { principalId: w.sa.id }, w.client);
    expect(r.credentialIds).toHaveLength(live);
    const c = await until("applied", () => change(r.changeId), (c) => c.enforcement === "applied");
    expect(c.kind).toBe("revoke_all_keys");
    for (const key of issued) expect(await w.get(key)).toBe(401);
    expect(await w.client.credential.count({ where: { principalId: w.sa.id, revokedAt: null } })).toBe(0);
  });

  test("a key never appears in the audit log, the outbox, notifications, or the logs", async () => {
    expect(issued.length).toBeGreaterThanOrEqual(5);
    const events = JSON.stringify(await w.client.auditEvent.findMany({ select: { action: true, data: true, target: true } }));
    const outbox = JSON.stringify(await w.client.outboxItem.findMany({ select: { payload: true, lastError: true } }));
    const notes = JSON.stringify(await w.client.notification.findMany());
    const changes = JSON.stringify(await w.client.accessChange.findMany());
    const proxyLog = w.proxy.output();
    for (const key of issued) {
      const secret = key.split("_")[2];
      for (const [where, text] of Object.entries({ events, outbox, notes, changes, proxyLog, console: logged.join("\n") })) {
        expect(text.includes(secret), `${where} contains a key`).toBe(false);
      }
    }
    expect(events).toContain("credential.issue");
  });
});

describe("who may manage keys, and bad input", () => {
  test("a reviewer who neither owns the account nor manages its team gets 403 and nothing is written", async () => {
    const before = await w.client.credential.count();
    const changes = await w.client.accessChange.count();
    await expect(issueKey(w.outsider.actor, { principalId: w.sa.id }, w.client)).rejects.toMatchObject({ status: 403 });
    await expect(revokeAllKeys(w.outsider.actor, { principalId: w.sa.id }, w.client)).rejects.toMatchObject({ status: 403 });
    // Only an admin issues a key for a person.
    const person = await w.client.principal.findFirstOrThrow({ where: { displayName: "team reviewer" } });
    await expect(issueKey(w.manager.actor, { principalId: person.id, environmentId: w.env.id }, w.client)).rejects.toMatchObject({ status: 403 });
    expect(await w.client.credential.count()).toBe(before);
    expect(await w.client.accessChange.count()).toBe(changes);
  });

  test("bad input is a 400 naming the field", async () => {
    await expect(issueKey(w.admin.actor, { principalId: "nope" }, w.client)).rejects.toMatchObject({ status: 400, field: "principalId" });
    await expect(issueKey(w.admin.actor, { principalId: w.sa.id, expiresAt: "2001-01-01T00:00:00Z" }, w.client)).rejects.toMatchObject({ status: 400, field: "expiresAt" });
    const person = await w.client.principal.findFirstOrThrow({ where: { displayName: "outsider" } });
    await expect(issueKey(w.admin.actor, { principalId: person.id }, w.client)).rejects.toMatchObject({ status: 400, field: "environmentId" });
    await expect(rotateKey(w.admin.actor, { credentialId: w.sa.id, overlapEndsAt: "yesterday" }, w.client)).rejects.toMatchObject({ status: 400, field: "overlapEndsAt" });
  });

  test("service accounts: admins for any team, managers for their own team only", async () => {
    const other = await w.client.team.create({ data: { name: `other-${Date.now()}` } });
    const ownerPrincipalId = w.owner.actor.principalId!;
    const mine = await createServiceAccount(w.manager.actor, { name: "billing-sync", teamId: w.team.id, ownerPrincipalId, environmentId: w.env.id }, w.client);
    const sa = await w.client.principal.findUniqueOrThrow({ where: { id: mine.principalId } });
    expect(sa).toMatchObject({ kind: "service_account", managerId: ownerPrincipalId, teamId: w.team.id, homeEnvironmentId: w.env.id });
    await expect(createServiceAccount(w.manager.actor, { name: "x", teamId: other.id, ownerPrincipalId, environmentId: w.env.id }, w.client)).rejects.toMatchObject({ status: 403 });
    await expect(createServiceAccount(w.reviewer.actor, { name: "x", teamId: w.team.id, ownerPrincipalId, environmentId: w.env.id }, w.client)).rejects.toMatchObject({ status: 403 });
    await expect(createServiceAccount(w.admin.actor, { name: "x", teamId: other.id, ownerPrincipalId: sa.id, environmentId: w.env.id }, w.client)).rejects.toMatchObject({ status: 400, field: "ownerPrincipalId" });
    await expect(createServiceAccount(w.admin.actor, { name: "", teamId: other.id, ownerPrincipalId, environmentId: w.env.id }, w.client)).rejects.toMatchObject({ status: 400, field: "name" });
    expect((await createServiceAccount(w.admin.actor, { name: "y", teamId: other.id, ownerPrincipalId, environmentId: w.env.id }, w.client)).principalId).toBeTruthy();
  });
});

test("bulk issuance: a batch of keys in one transaction, each works at the proxy; a batch naming a principal the caller does not manage is refused whole", { timeout: 120_000 }, async () => {
  const { issueKeys } = await import("./credentials");
  const sa = await w.client.principal.create({ data: { kind: "service_account", displayName: "bulk-bot", teamId: w.team.id, managerId: w.owner.actor.principalId, homeEnvironmentId: w.env.id } });
  await makeGrant(w.client, { principalId: sa.id, scopeId: w.scopes.read.id, environmentId: w.env.id });
  const { reconcileProxies } = await import("@/lib/enforcement/reconcile");
  await reconcileProxies(w.client);
  const other = await w.client.principal.create({ data: { kind: "service_account", displayName: "not-mine", homeEnvironmentId: w.env.id } });
  const before = await w.client.credential.count();
  await expect(issueKeys(w.owner.actor, { keys: [{ principalId: sa.id }, { principalId: other.id }] }, w.client)).rejects.toMatchObject({ status: 403 });
  expect(await w.client.credential.count()).toBe(before);
  await expect(issueKeys(w.owner.actor, { keys: [] }, w.client)).rejects.toMatchObject({ status: 400, field: "keys" });
  const keys = await issueKeys(w.owner.actor, { keys: [{ principalId: sa.id }, { principalId: sa.id }, { principalId: sa.id }] }, w.client);
  expect(new Set(keys.map((k) => k.key)).size).toBe(3);
  for (const k of keys) await until("200", () => w.get(k.key), (s) => s === 200);
  await until("applied", () => w.client.accessChange.findUniqueOrThrow({ where: { id: keys[0].changeId } }), (c) => c.enforcement === "applied");
  const events = JSON.stringify(await w.client.auditEvent.findMany({ where: { action: "credential.issue_bulk" }, select: { data: true } }));
  for (const k of keys) expect(events.includes(k.key.split("_")[2])).toBe(false);
});
