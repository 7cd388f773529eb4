import bcrypt from "bcryptjs";
import { z } from "zod";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { appendAuditEvent } from "@/lib/audit/chain";
import { knownRoles, rolesForGroups } from "./roles";
import { signInLimits } from "./rate-limit";
import type { Role } from "./actor";

export interface SignedInUser {
  id: string;
  email: string;
  name: string;
  roles: Role[];
}

export type SignInResult = { ok: true; user: SignedInUser } | { ok: false; reason: "invalid" | "rate_limited" | "no_roles" | "email_unverified" };

// Compared against when the email is unknown, so a miss costs the same time as
// a wrong password (no user enumeration by timing). bcrypt of a random string.
const DUMMY_HASH = "$2b$10$ilq8AJzhXg3ZaiIOwOBL2emsnVrkILFr/43M4l.CxYAzoEe3Dg7/u";

const limitedAuditedAt = new Map<string, number>();

const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().email().max(320),
  password: z.string().min(1).max(200),
});

/**
 * A user's principal is linked on sign-in when exactly one active person
 * principal has the same email, so separation of duties knows which grants
 * are "their own".
 */
async function linkPrincipal(tx: Tx, userId: string, email: string, current: string | null): Promise<void> {
  if (current) return;
  const matches = await tx.principal.findMany({
    where: { kind: "user", email: { equals: email, mode: "insensitive" }, user: null },
    select: { id: true },
    take: 2,
  });
  if (matches.length === 1) await tx.user.update({ where: { id: userId }, data: { principalId: matches[0].id } });
}

async function auditFailure(client: PrismaClient, email: string, reason: string, meta: Record<string, unknown>): Promise<void> {
  await client.$transaction((tx) =>
    appendAuditEvent(tx, { actor: "anonymous", action: "auth.signin_failed", target: `user:${email}`, data: { reason, ...meta } }),
  );
}

/** Demo/local password sign-in. Throttled per (IP, email) and per email; every outcome is audited. */
export async function signInWithPassword(
  input: { email?: unknown; password?: unknown; ip: string },
  client: PrismaClient = db(),
): Promise<SignInResult> {
  const parsed = credentialsSchema.safeParse({ email: input.email, password: input.password });
  const email = parsed.success ? parsed.data.email : String(input.email ?? "").slice(0, 320).toLowerCase();
  const limits = signInLimits();
  const keyIpEmail = `${input.ip}|${email}`;
  const wait = Math.max(limits.ipEmail.retryAfter(keyIpEmail), limits.email.retryAfter(email));
  if (wait > 0) {
    // Audited once per window per key, so a flood of retries cannot flood the audit log.
    const now = Date.now();
    if (now - (limitedAuditedAt.get(keyIpEmail) ?? 0) > limits.ipEmail.windowMs) {
      limitedAuditedAt.set(keyIpEmail, now);
      if (limitedAuditedAt.size > 10_000) limitedAuditedAt.clear();
      await auditFailure(client, email, "rate_limited", { method: "password", ip: input.ip });
    }
    return { ok: false, reason: "rate_limited" };
  }
  const user = parsed.success ? await client.user.findUnique({ where: { email } }) : null;
  const passwordOk = await bcrypt.compare(parsed.success ? parsed.data.password : "", user?.passwordHash ?? DUMMY_HASH);
  if (!user || !user.passwordHash || !passwordOk) {
    limits.ipEmail.fail(keyIpEmail);
    limits.email.fail(email);
    await auditFailure(client, email, "invalid_credentials", { method: "password", ip: input.ip });
    return { ok: false, reason: "invalid" };
  }
  const roles = knownRoles(user.roles);
  if (roles.length === 0) {
    await auditFailure(client, email, "no_roles", { method: "password", ip: input.ip });
    return { ok: false, reason: "no_roles" };
  }
  limits.ipEmail.clear(keyIpEmail);
  await client.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { lastSignInAt: new Date() } });
    await linkPrincipal(tx, user.id, user.email, user.principalId);
    await appendAuditEvent(tx, {
      actor: user.email,
      action: "auth.signin",
      target: `user:${user.id}`,
      data: { method: "password", ip: input.ip, roles },
    });
  });
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, roles } };
}

const oidcClaimsSchema = z.object({
  sub: z.string().min(1),
  email: z.string().trim().toLowerCase().email(),
  email_verified: z.union([z.boolean(), z.string()]).optional(),
  name: z.string().optional(),
  preferred_username: z.string().optional(),
});

/**
 * OIDC sign-in: creates or updates the User from the ID token and replaces its
 * roles with those mapped from the groups claim (so removing someone from a
 * group takes effect at their next sign-in, and currentActor() re-reads roles
 * from the database on every request). Nobody without a mapped role gets in.
 */
export async function signInWithOidc(
  input: { claims: Record<string, unknown>; groups: string[]; roleMap: Record<string, Role[]>; issuer: string },
  client: PrismaClient = db(),
): Promise<SignInResult> {
  const parsed = oidcClaimsSchema.safeParse(input.claims);
  if (!parsed.success) {
    await auditFailure(client, String(input.claims.email ?? input.claims.sub ?? "unknown"), "invalid_id_token_claims", {
      method: "oidc",
      issue: parsed.error.issues[0]?.path.join(".") ?? "",
    });
    return { ok: false, reason: "invalid" };
  }
  const claims = parsed.data;
  if (claims.email_verified === false || claims.email_verified === "false") {
    await auditFailure(client, claims.email, "email_unverified", { method: "oidc", subject: claims.sub });
    return { ok: false, reason: "email_unverified" };
  }
  const roles = rolesForGroups(input.groups, input.roleMap);
  if (roles.length === 0) {
    // Entra ID leaves the groups out of the ID token when a user is in too many
    // ("groups overage": _claim_names/_claim_sources point at Graph instead). We
    // do not call Graph, so that person is refused; the audit says why.
    const names = input.claims._claim_names;
    const overage = typeof names === "object" && names !== null && Object.hasOwn(names, "groups");
    await auditFailure(client, claims.email, "no_roles", { method: "oidc", subject: claims.sub, groups: input.groups, ...(overage ? { groupsOverage: true } : {}) });
    return { ok: false, reason: "no_roles" };
  }
  const name = claims.name ?? claims.preferred_username ?? claims.email;
  const user = await client.$transaction(async (tx) => {
    const before = await tx.user.findUnique({ where: { email: claims.email }, select: { roles: true } });
    const saved = await tx.user.upsert({
      where: { email: claims.email },
      create: { email: claims.email, name, roles, lastSignInAt: new Date() },
      update: { name, roles, lastSignInAt: new Date() },
    });
    await linkPrincipal(tx, saved.id, saved.email, saved.principalId);
    await appendAuditEvent(tx, {
      actor: saved.email,
      action: "auth.signin",
      target: `user:${saved.id}`,
      data: {
        method: "oidc",
        issuer: input.issuer,
        subject: claims.sub,
        groups: input.groups,
        roles,
        ...(before && before.roles.join() !== roles.join() ? { previousRoles: before.roles } : {}),
        ...(before ? {} : { created: true }),
      },
    });
    return saved;
  });
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, roles } };
}

/** Sign-out is recorded too (outside any other change, so in a transaction of its own). */
export async function recordSignOut(userId: string, email: string, client: PrismaClient = db()): Promise<void> {
  await client.$transaction((tx) => appendAuditEvent(tx, { actor: email, action: "auth.signout", target: `user:${userId}`, data: {} }));
}
