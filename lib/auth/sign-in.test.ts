import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { verifyAuditChain } from "@/lib/audit/chain";
import { signInWithOidc, signInWithPassword } from "./sign-in";
import { parseRoleMap } from "./roles";
import { createTokenFromForm, listServiceTokens } from "./token-admin";
import { authenticateServiceToken, revokeServiceToken } from "./service-tokens";
import type { Actor } from "./actor";

let tdb: TestDatabase;
let client: PrismaClient;
const PASSWORD = "correct horse battery";

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  const hash = await bcrypt.hash(PASSWORD, 10);
  await client.user.createMany({
    data: [
      { email: "ada@example.test", name: "Ada", roles: ["reviewer"], passwordHash: hash },
      { email: "norole@example.test", name: "No Role", roles: [], passwordHash: hash },
      { email: "limited@example.test", name: "Limited", roles: ["auditor"], passwordHash: hash },
    ],
  });
  await client.principal.create({ data: { kind: "user", displayName: "Ada", email: "Ada@Example.test" } });
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

const events = (action: string) => client.auditEvent.findMany({ where: { action }, orderBy: { seq: "asc" } });

describe("password sign-in (demo mode)", () => {
  test("right password signs in, links the person's principal and writes a sign-in event", async () => {
    const r = await signInWithPassword({ email: " ADA@example.test ", password: PASSWORD, ip: "10.0.0.1" }, client);
    expect(r).toMatchObject({ ok: true, user: { email: "ada@example.test", roles: ["reviewer"] } });
    const user = await client.user.findUniqueOrThrow({ where: { email: "ada@example.test" }, include: { principal: true } });
    expect(user.lastSignInAt).not.toBeNull();
    expect(user.principal?.displayName).toBe("Ada");
    const [ev] = await events("auth.signin");
    expect(ev).toMatchObject({ actor: "ada@example.test", target: `user:${user.id}`, data: { method: "password", ip: "10.0.0.1", roles: ["reviewer"] } });
  });

  test("wrong password and unknown email fail the same way, each audited", async () => {
    const before = (await events("auth.signin_failed")).length;
    expect(await signInWithPassword({ email: "ada@example.test", password: "nope", ip: "10.0.0.2" }, client)).toEqual({ ok: false, reason: "invalid" });
    expect(await signInWithPassword({ email: "ghost@example.test", password: "nope", ip: "10.0.0.2" }, client)).toEqual({ ok: false, reason: "invalid" });
    const failed = (await events("auth.signin_failed")).slice(before);
    expect(failed.map((e) => [e.actor, e.target, (e.data as { reason: string }).reason])).toEqual([
      ["anonymous", "user:ada@example.test", "invalid_credentials"],
      ["anonymous", "user:ghost@example.test", "invalid_credentials"],
    ]);
  });

  test("a user without roles cannot sign in", async () => {
    expect(await signInWithPassword({ email: "norole@example.test", password: PASSWORD, ip: "10.0.0.3" }, client)).toEqual({ ok: false, reason: "no_roles" });
  });

  test("the 6th attempt within a minute from one IP for one email is refused, even with the right password; other IPs are not affected", async () => {
    for (let i = 0; i < 5; i++) {
      expect((await signInWithPassword({ email: "limited@example.test", password: "wrong", ip: "10.9.9.9" }, client)).ok).toBe(false);
    }
    expect(await signInWithPassword({ email: "limited@example.test", password: PASSWORD, ip: "10.9.9.9" }, client)).toEqual({ ok: false, reason: "rate_limited" });
    expect(await signInWithPassword({ email: "limited@example.test", password: PASSWORD, ip: "10.9.9.9" }, client)).toEqual({ ok: false, reason: "rate_limited" });
    // Audited once per window, not per retry.
    const limited = (await events("auth.signin_failed")).filter((e) => (e.data as { reason: string }).reason === "rate_limited");
    expect(limited).toHaveLength(1);
    expect((await signInWithPassword({ email: "limited@example.test", password: PASSWORD, ip: "10.1.1.1" }, client)).ok).toBe(true);
  });
});

describe("OIDC sign-in", () => {
  const roleMap = parseRoleMap('{"tg-review":["reviewer"],"tg-audit":["auditor"],"tg-admin":["admin"]}');
  const claims = { sub: "idp-123", email: "grace@example.test", name: "Grace Hopper", email_verified: true };

  test("first sign-in creates the user with roles from the groups claim", async () => {
    const r = await signInWithOidc({ claims, groups: ["tg-review", "staff"], roleMap, issuer: "http://idp.test" }, client);
    expect(r).toMatchObject({ ok: true, user: { email: "grace@example.test", name: "Grace Hopper", roles: ["reviewer"] } });
    const user = await client.user.findUniqueOrThrow({ where: { email: "grace@example.test" } });
    expect(user.roles).toEqual(["reviewer"]);
    expect(user.passwordHash).toBeNull();
    const ev = (await events("auth.signin")).at(-1)!;
    expect(ev.data).toMatchObject({ method: "oidc", subject: "idp-123", groups: ["tg-review", "staff"], roles: ["reviewer"], created: true });
  });

  test("each sign-in replaces the roles with the current groups (a removed group removes the role)", async () => {
    await signInWithOidc({ claims, groups: ["tg-audit", "tg-admin"], roleMap, issuer: "http://idp.test" }, client);
    expect((await client.user.findUniqueOrThrow({ where: { email: "grace@example.test" } })).roles).toEqual(["admin", "auditor"]);
    const ev = (await events("auth.signin")).at(-1)!;
    expect(ev.data).toMatchObject({ roles: ["admin", "auditor"], previousRoles: ["reviewer"] });
  });

  test("no mapped group means no entry, and the stored roles are left alone", async () => {
    const r = await signInWithOidc({ claims, groups: ["staff"], roleMap, issuer: "http://idp.test" }, client);
    expect(r).toEqual({ ok: false, reason: "no_roles" });
    const ev = (await events("auth.signin_failed")).at(-1)!;
    expect(ev.data).toMatchObject({ reason: "no_roles", method: "oidc" });
  });

  test("an Entra groups-overage token (no groups, a Graph pointer) is refused and the audit says why", async () => {
    const overage = { ...claims, email: "many-groups@example.test", _claim_names: { groups: "src1" }, _claim_sources: { src1: { endpoint: "https://graph.microsoft.com/v1.0/users/x/getMemberObjects" } } };
    const r = await signInWithOidc({ claims: overage, groups: [], roleMap, issuer: "http://idp.test" }, client);
    expect(r).toEqual({ ok: false, reason: "no_roles" });
    expect((await events("auth.signin_failed")).at(-1)!.data).toMatchObject({ reason: "no_roles", groupsOverage: true });
    expect(await client.user.findUnique({ where: { email: "many-groups@example.test" } })).toBeNull();
  });

  test("an unverified email or a token without email is refused", async () => {
    expect(await signInWithOidc({ claims: { ...claims, email_verified: false }, groups: ["tg-review"], roleMap, issuer: "x" }, client)).toEqual({
      ok: false,
      reason: "email_unverified",
    });
    expect(await signInWithOidc({ claims: { sub: "x" }, groups: ["tg-review"], roleMap, issuer: "x" }, client)).toEqual({ ok: false, reason: "invalid" });
  });

  test("all those events form an intact chain", async () => {
    expect(await verifyAuditChain(client)).toMatchObject({ ok: true });
  });
});

describe("service tokens admin", () => {
  test("admin creates (scope from the fixed list), lists and revokes; each change audited; others are refused", async () => {
    const admin = await client.user.create({ data: { email: "root@example.test", name: "Root", roles: ["admin"] } });
    const actor: Actor = { kind: "user", userId: admin.id, email: admin.email, name: admin.name, roles: ["admin"], principalId: null };
    const auditor: Actor = { ...actor, roles: ["auditor"] };
    await expect(createTokenFromForm(actor, { name: "x", scopes: ["tokens:manage"] }, client)).rejects.toMatchObject({ status: 400, field: "scopes.0" });
    await expect(createTokenFromForm(actor, { name: "", scopes: ["scim"] }, client)).rejects.toMatchObject({ status: 400, field: "name" });
    await expect(createTokenFromForm(auditor, { name: "x", scopes: ["scim"] }, client)).rejects.toMatchObject({ status: 403 });
    await expect(listServiceTokens(auditor, client)).rejects.toMatchObject({ status: 403 });

    const created = await createTokenFromForm(actor, { name: "proxy-prod", scopes: ["usage:ingest", "proxy:sync"] }, client);
    expect(created.token).toMatch(/^tgs_/);
    const [row] = await listServiceTokens(actor, client);
    expect(row).toMatchObject({ name: "proxy-prod", scopes: ["usage:ingest", "proxy:sync"], createdBy: "root@example.test", revokedAt: null });
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(await authenticateServiceToken(`Bearer ${created.token}`, client)).toMatchObject({ kind: "service", scopes: ["usage:ingest", "proxy:sync"] });
    await revokeServiceToken(actor, created.id, client);
    await expect(authenticateServiceToken(`Bearer ${created.token}`, client)).rejects.toMatchObject({ status: 401 });
    expect((await listServiceTokens(actor, client))[0].revokedAt).not.toBeNull();
    expect((await events("service_token.create")).length).toBe(1);
    expect((await events("service_token.revoke")).length).toBe(1);
  });
});
