import { z } from "zod";
import { appendAuditEvent } from "@/lib/audit";
import { can, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { badRequest, conflict, forbidden, notFound } from "@/lib/errors";
import type { EnforcementState } from "@/lib/generated/prisma/client";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { actorTeamId, credentialTargets, iso, loadPrincipal, parse, recordAccessChange, type LoadedPrincipal } from "./common";
import { generateKey, tierOf } from "./keys";

// Issuing, rotating and revoking API keys (docs/SECURITY.md, "API keys issued by
// Tollgate"). The key itself leaves this module exactly once, in the return value
// of issueKey/rotateKey; audit events, outbox rows and logs carry only the
// credential id and display prefix (the proxy receives the SHA-256).

const MAX_DAYS = 366;
const future = (field: string, maxDays: number) =>
  z.coerce
    .date()
    .refine((d) => d.getTime() > Date.now(), `${field} must be in the future`)
    .refine((d) => d.getTime() <= Date.now() + maxDays * 86_400_000, `at most ${maxDays} days ahead`);

export const issueKeyInput = z.object({
  principalId: z.uuid("must be a principal id"),
  expiresAt: future("expiresAt", MAX_DAYS).optional(),
  /** For a principal without a home environment (people): which tier the key is labelled for. */
  environmentId: z.uuid("must be an environment id").optional(),
});
export const rotateKeyInput = z.object({
  credentialId: z.uuid("must be a credential id"),
  /** When the old key stops working; default 24 hours from now. */
  overlapEndsAt: future("overlapEndsAt", 30).optional(),
  expiresAt: future("expiresAt", MAX_DAYS).optional(),
});
export const revokeKeyInput = z.object({ credentialId: z.uuid("must be a credential id") });
export const changeKeyExpiryInput = z.object({
  credentialId: z.uuid("must be a credential id"),
  expiresAt: future("expiresAt", MAX_DAYS).nullable().meta({ description: "When the key stops working (null: never)" }),
});
export const revokeAllKeysInput = z.object({ principalId: z.uuid("must be a principal id") });

export const DEFAULT_OVERLAP_MS = 24 * 3_600_000;

export interface IssuedKey {
  credentialId: string;
  /** Shown once. */
  key: string;
  prefix: string;
  expiresAt: Date | null;
  changeId: string;
  enforcement: EnforcementState;
}

/**
 * Key management: credentials:manage, or inventory:write for automation through the
 * inventory API (issue 15; for people inventory:write is admin, who hold credentials:manage anyway).
 */
function authorizeKeys(actor: Actor): void {
  if (!can(actor, "credentials:manage") && !can(actor, "inventory:write")) throw forbidden("Requires permission credentials:manage or inventory:write");
}

/** Admins (and service tokens with credentials:manage or inventory:write) for anyone; the owner or the team's manager for a service account. */
async function assertManages(tx: Tx, actor: Actor, p: LoadedPrincipal): Promise<void> {
  authorizeKeys(actor);
  if (actor.kind !== "user" || actor.roles.includes("admin")) return;
  if (p.kind === "user") throw forbidden("Only an admin issues keys for a person");
  if (actor.principalId && p.managerId === actor.principalId) return;
  if (actor.roles.includes("manager") && p.teamId && (await actorTeamId(tx, actor)) === p.teamId) return;
  throw forbidden("Only the owner or the team's manager manages this service account's keys");
}

async function lockCredential(tx: Tx, id: string) {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Credential" WHERE id = ${id}::uuid FOR UPDATE`;
  if (rows.length === 0) throw notFound("Credential");
  return tx.credential.findUniqueOrThrow({ where: { id } });
}

async function keyTier(tx: Tx, p: LoadedPrincipal, environmentId: string | undefined) {
  if (p.homeEnvironment) return tierOf(p.homeEnvironment.tier);
  if (!environmentId) throw badRequest("environmentId: required for a principal without a home environment", "environmentId");
  const env = await tx.environment.findUnique({ where: { id: environmentId }, select: { tier: true } });
  if (!env) throw badRequest("environmentId: unknown environment", "environmentId");
  return tierOf(env.tier);
}

function wakeIfPending<T extends { enforcement: EnforcementState }>(r: T): T {
  if (r.enforcement === "pending") wakeDelivery();
  return r;
}

export async function issueKey(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<IssuedKey> {
  authorizeKeys(actor);
  const v = parse(issueKeyInput, input);
  const r = await client.$transaction(async (tx) => {
    const p = await loadPrincipal(tx, v.principalId);
    await assertManages(tx, actor, p);
    if (p.status !== "active") throw conflict(`The principal is ${p.status}: no keys are issued for it`);
    const k = generateKey(await keyTier(tx, p, v.environmentId));
    const cred = await tx.credential.create({
      data: { principalId: p.id, prefix: k.prefix, hash: k.hash, expiresAt: v.expiresAt ?? null, origin: "issued" },
      select: { id: true, expiresAt: true },
    });
    const change = await recordAccessChange(tx, {
      kind: "issue_key",
      actor,
      principalId: p.id,
      credentialIds: [cred.id],
      proxyIds: await credentialTargets(tx, p.homeEnvironment?.id ?? null),
      ops: [{ op: "upsert", kind: "credential", value: { id: cred.id, principalId: p.id, hash: k.hash, expiresAt: iso(cred.expiresAt) } }],
    });
    await appendAuditEvent(tx, {
      actor,
      action: "credential.issue",
      target: `principal:${p.id}`,
      data: { credentialId: cred.id, prefix: k.prefix, principal: p.displayName, expiresAt: iso(cred.expiresAt), changeId: change.id },
    });
    return { credentialId: cred.id, key: k.key, prefix: k.prefix, expiresAt: cred.expiresAt, changeId: change.id, enforcement: change.enforcement };
  });
  return wakeIfPending(r);
}

export interface RotatedKey extends IssuedKey {
  oldCredentialId: string;
  overlapEndsAt: Date;
}

/**
 * A new key for the same principal; the old one keeps working until the
 * overlap end (its expiresAt, which the proxy checks on every request), then
 * stops by itself — no later message from the dashboard is needed.
 */
export async function rotateKey(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<RotatedKey> {
  authorizeKeys(actor);
  const v = parse(rotateKeyInput, input);
  const r = await client.$transaction(async (tx) => {
    const now = new Date();
    const old = await lockCredential(tx, v.credentialId);
    const p = await loadPrincipal(tx, old.principalId);
    await assertManages(tx, actor, p);
    if (p.status !== "active") throw conflict(`The principal is ${p.status}: no keys are issued for it`);
    if (old.revokedAt) throw conflict("This key is revoked");
    if (old.expiresAt && old.expiresAt <= now) throw conflict("This key has expired");
    if (old.rotatedAt) throw conflict("This key was already rotated");
    const requested = v.overlapEndsAt ?? new Date(now.getTime() + DEFAULT_OVERLAP_MS);
    // Rotation never lengthens the old key's life.
    const overlapEndsAt = old.expiresAt && old.expiresAt < requested ? old.expiresAt : requested;
    const tier = old.prefix.split("_")[1];
    const k = generateKey(tier === "prod" || tier === "stg" || tier === "dev" ? tier : await keyTier(tx, p, undefined));
    const expiresAt = v.expiresAt ?? old.expiresAt ?? null;
    const cred = await tx.credential.create({
      data: { principalId: p.id, prefix: k.prefix, hash: k.hash, expiresAt, origin: "rotated", rotatedFromId: old.id },
      select: { id: true },
    });
    await tx.credential.update({ where: { id: old.id }, data: { rotatedAt: now, expiresAt: overlapEndsAt } });
    const change = await recordAccessChange(tx, {
      kind: "rotate_key",
      actor,
      principalId: p.id,
      credentialIds: [cred.id, old.id],
      proxyIds: await credentialTargets(tx, p.homeEnvironment?.id ?? null),
      ops: [
        { op: "upsert", kind: "credential", value: { id: cred.id, principalId: p.id, hash: k.hash, expiresAt: iso(expiresAt) } },
        ...(/^[0-9a-f]{64}$/.test(old.hash) ? [{ op: "upsert" as const, kind: "credential" as const, value: { id: old.id, principalId: p.id, hash: old.hash, expiresAt: iso(overlapEndsAt) } }] : []),
      ],
    });
    await appendAuditEvent(tx, {
      actor,
      action: "credential.rotate",
      target: `principal:${p.id}`,
      data: { credentialId: cred.id, prefix: k.prefix, oldCredentialId: old.id, oldPrefix: old.prefix, overlapEndsAt: overlapEndsAt.toISOString(), principal: p.displayName, changeId: change.id },
    });
    return { credentialId: cred.id, key: k.key, prefix: k.prefix, expiresAt, oldCredentialId: old.id, overlapEndsAt, changeId: change.id, enforcement: change.enforcement };
  });
  return wakeIfPending(r);
}

/** A new expiry for a live key (the inventory API's PATCH): the proxies learn it like an issued key. */
export async function changeKeyExpiry(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<{ credentialId: string; expiresAt: Date | null; changeId: string; enforcement: EnforcementState }> {
  authorizeKeys(actor);
  const v = parse(changeKeyExpiryInput, input);
  const r = await client.$transaction(async (tx) => {
    const cred = await lockCredential(tx, v.credentialId);
    const p = await loadPrincipal(tx, cred.principalId);
    await assertManages(tx, actor, p);
    if (cred.revokedAt) throw conflict("This key is revoked");
    if (cred.rotatedAt) throw conflict("This key was rotated: its overlap end is its expiry (change the replacement's)");
    await tx.credential.update({ where: { id: cred.id }, data: { expiresAt: v.expiresAt } });
    const change = await recordAccessChange(tx, {
      kind: "change_key",
      actor,
      principalId: p.id,
      credentialIds: [cred.id],
      proxyIds: await credentialTargets(tx, p.homeEnvironment?.id ?? null),
      // A key imported with a hash the proxy cannot use (not SHA-256 hex) never reached it: nothing to send.
      ops: /^[0-9a-f]{64}$/.test(cred.hash) ? [{ op: "upsert", kind: "credential", value: { id: cred.id, principalId: p.id, hash: cred.hash, expiresAt: iso(v.expiresAt) } }] : [],
    });
    await appendAuditEvent(tx, {
      actor,
      action: "credential.expiry",
      target: `principal:${p.id}`,
      data: { credentialId: cred.id, prefix: cred.prefix, principal: p.displayName, from: iso(cred.expiresAt), to: iso(v.expiresAt), changeId: change.id },
    });
    return { credentialId: cred.id, expiresAt: v.expiresAt, changeId: change.id, enforcement: change.enforcement };
  });
  return wakeIfPending(r);
}

export interface RevokedKeys {
  credentialIds: string[];
  changeId: string;
  enforcement: EnforcementState;
}

export async function revokeKey(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<RevokedKeys> {
  authorizeKeys(actor);
  const v = parse(revokeKeyInput, input);
  const r = await client.$transaction(async (tx) => {
    const cred = await lockCredential(tx, v.credentialId);
    const p = await loadPrincipal(tx, cred.principalId);
    await assertManages(tx, actor, p);
    if (cred.revokedAt) throw conflict("This key is already revoked");
    await tx.credential.update({ where: { id: cred.id }, data: { revokedAt: new Date() } });
    const change = await recordAccessChange(tx, {
      kind: "revoke_key",
      actor,
      principalId: p.id,
      credentialIds: [cred.id],
      proxyIds: await credentialTargets(tx, p.homeEnvironment?.id ?? null),
      ops: [{ op: "delete", kind: "credential", id: cred.id }],
    });
    await appendAuditEvent(tx, {
      actor,
      action: "credential.revoke",
      target: `principal:${p.id}`,
      data: { credentialId: cred.id, prefix: cred.prefix, principal: p.displayName, changeId: change.id },
    });
    return { credentialIds: [cred.id], changeId: change.id, enforcement: change.enforcement };
  });
  return wakeIfPending(r);
}

/** The leaked-key response: every key of the principal stops at every proxy, in one decision. */
export async function revokeAllKeys(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<RevokedKeys> {
  authorizeKeys(actor);
  const v = parse(revokeAllKeysInput, input);
  const r = await client.$transaction(async (tx) => {
    const p = await loadPrincipal(tx, v.principalId);
    await assertManages(tx, actor, p);
    const locked = await tx.$queryRaw<{ id: string; prefix: string; revokedAt: Date | null }[]>`
      SELECT id, prefix, "revokedAt" FROM "Credential" WHERE "principalId" = ${p.id}::uuid ORDER BY id FOR UPDATE`;
    const now = new Date();
    const live = locked.filter((c) => !c.revokedAt);
    if (live.length > 0) await tx.credential.updateMany({ where: { id: { in: live.map((c) => c.id) } }, data: { revokedAt: now } });
    // Every credential of the principal is deleted at the proxies, already-revoked ones
    // too: a proxy that missed an earlier delete is brought in line by this one.
    const change = await recordAccessChange(tx, {
      kind: "revoke_all_keys",
      actor,
      principalId: p.id,
      credentialIds: live.map((c) => c.id),
      proxyIds: await credentialTargets(tx, p.homeEnvironment?.id ?? null),
      ops: locked.map((c) => ({ op: "delete" as const, kind: "credential" as const, id: c.id })),
    });
    await appendAuditEvent(tx, {
      actor,
      action: "credential.revoke_all",
      target: `principal:${p.id}`,
      data: { credentialIds: live.map((c) => c.id), prefixes: live.map((c) => c.prefix), principal: p.displayName, changeId: change.id },
    });
    return { credentialIds: live.map((c) => c.id), changeId: change.id, enforcement: change.enforcement };
  });
  return wakeIfPending(r);
}

export const issueKeysInput = z.object({
  keys: z.array(issueKeyInput.omit({ environmentId: true })).min(1, "name at least one key").max(1000, "at most 1000 keys per call"),
});

/**
 * Bulk issuance for provisioning pipelines (POST /api/v1/keys with `keys: [...]`):
 * up to 1000 keys for service accounts in one transaction, one access change per
 * environment's proxies and one audit event listing every credential id and prefix.
 * Every principal is checked exactly as in issueKey; one refusal refuses the batch.
 */
export async function issueKeys(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<IssuedKey[]> {
  authorizeKeys(actor);
  const v = parse(issueKeysInput, input);
  const out = await client.$transaction(
    async (tx) => {
      const ids = [...new Set(v.keys.map((k) => k.principalId))];
      const principals = new Map<string, LoadedPrincipal>();
      for (const id of ids) {
        const p = await loadPrincipal(tx, id);
        await assertManages(tx, actor, p);
        if (p.status !== "active") throw conflict(`Principal ${id} is ${p.status}: no keys are issued for it`);
        if (!p.homeEnvironment) throw badRequest(`keys: principal ${id} has no home environment; issue its keys one at a time`, "keys");
        principals.set(id, p);
      }
      const made = v.keys.map((k) => {
        const p = principals.get(k.principalId)!;
        return { p, k: generateKey(tierOf(p.homeEnvironment!.tier)), expiresAt: k.expiresAt ?? null };
      });
      const rows = await tx.credential.createManyAndReturn({
        data: made.map((m) => ({ principalId: m.p.id, prefix: m.k.prefix, hash: m.k.hash, expiresAt: m.expiresAt, origin: "issued" })),
        select: { id: true, hash: true, principalId: true, expiresAt: true },
      });
      const idByHash = new Map(rows.map((r) => [r.hash, r.id]));
      const byEnv = new Map<string, typeof made>();
      for (const m of made) byEnv.set(m.p.homeEnvironment!.id, [...(byEnv.get(m.p.homeEnvironment!.id) ?? []), m]);
      const result: IssuedKey[] = [];
      for (const [envId, group] of byEnv) {
        const change = await recordAccessChange(tx, {
          kind: "issue_key",
          actor,
          principalId: group[0].p.id,
          credentialIds: group.map((m) => idByHash.get(m.k.hash)!),
          proxyIds: await credentialTargets(tx, envId),
          ops: group.map((m) => ({ op: "upsert" as const, kind: "credential" as const, value: { id: idByHash.get(m.k.hash)!, principalId: m.p.id, hash: m.k.hash, expiresAt: iso(m.expiresAt) } })),
        });
        for (const m of group) result.push({ credentialId: idByHash.get(m.k.hash)!, key: m.k.key, prefix: m.k.prefix, expiresAt: m.expiresAt, changeId: change.id, enforcement: change.enforcement });
      }
      await appendAuditEvent(tx, {
        actor,
        action: "credential.issue_bulk",
        target: null,
        data: { count: result.length, keys: result.map((r) => ({ credentialId: r.credentialId, prefix: r.prefix, changeId: r.changeId })) },
      });
      return result;
    },
    { timeout: 60_000 },
  );
  if (out.some((r) => r.enforcement === "pending")) wakeDelivery();
  return out;
}
