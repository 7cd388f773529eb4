import { z } from "zod";
import { appendAuditEvent } from "@/lib/audit";
import { authorize, type Actor } from "@/lib/auth/actor";
import { iso, parse, recordAccessChange } from "@/lib/access/common";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { badRequest, conflict } from "@/lib/errors";
import type { EnforcementState } from "@/lib/generated/prisma/client";
import { proxyTargets } from "@/lib/enforcement/outbox";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { expiry, lockRow } from "./common";

// Grants given, changed and revoked directly through the inventory API (issue 15), by an
// admin or an inventory:write service token. Each is an AccessChange whose outbox rows
// carry the grant to (or remove it from) every proxy of its environment, like a grant
// from an approved access request (lib/access/requests.ts).

export const createGrantInput = z.strictObject({
  principalId: z.uuid("must be a principal id"),
  scopeId: z.uuid("must be a scope id").meta({ description: "The scope; the grant is in the environment of the scope's API" }),
  expiresAt: expiry("expiresAt").optional(),
});
export const updateGrantInput = z.strictObject({ expiresAt: expiry("expiresAt").meta({ description: "New expiry (null: none)" }) });

export interface GrantChange {
  id: string;
  changeId: string;
  enforcement: EnforcementState;
}

const wakeIfPending = <T extends { enforcement: EnforcementState }>(r: T) => (r.enforcement === "pending" && wakeDelivery(), r);

/** Gives a principal a scope. A revoked or expired grant of the same scope is reactivated (one row per principal, scope, environment). */
export async function createGrant(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<GrantChange> {
  authorize(actor, "inventory:write");
  const v = parse(createGrantInput, input);
  const r = await client.$transaction(async (tx) => {
    const principal = await tx.principal.findUnique({ where: { id: v.principalId }, select: { id: true, status: true, displayName: true } });
    if (!principal) throw badRequest("principalId: unknown principal", "principalId");
    if (principal.status !== "active") throw conflict(`The principal is ${principal.status}: no access is granted to it`);
    const scope = await tx.scope.findUnique({ where: { id: v.scopeId }, select: { id: true, name: true, api: { select: { environmentId: true } } } });
    if (!scope) throw badRequest("scopeId: unknown scope", "scopeId");
    const environmentId = scope.api.environmentId;
    // Serialises concurrent grants of the same scope to the same principal.
    await tx.$queryRaw`SELECT id FROM "Principal" WHERE id = ${principal.id}::uuid FOR UPDATE`;
    const existing = await tx.grant.findUnique({ where: { principalId_scopeId_environmentId: { principalId: principal.id, scopeId: scope.id, environmentId } } });
    if (existing?.status === "active") throw conflict("The principal already holds this scope (update the grant to change its expiry)");
    const now = new Date();
    const data = { status: "active" as const, grantedAt: now, revokedAt: null, expiresAt: v.expiresAt ?? null, origin: "api" };
    const grant = existing
      ? await tx.grant.update({ where: { id: existing.id }, data, select: { id: true, expiresAt: true } })
      : await tx.grant.create({ data: { principalId: principal.id, scopeId: scope.id, environmentId, ...data }, select: { id: true, expiresAt: true } });
    const change = await recordAccessChange(tx, {
      kind: "grant_access",
      actor,
      principalId: principal.id,
      grantIds: [grant.id],
      proxyIds: await proxyTargets(tx, environmentId),
      ops: [{ op: "upsert", kind: "grant", value: { id: grant.id, principalId: principal.id, scopeId: scope.id, expiresAt: iso(grant.expiresAt) } }],
    });
    await appendAuditEvent(tx, {
      actor,
      action: "grant.create",
      target: `grant:${grant.id}`,
      data: { principal: principal.displayName, scope: scope.name, expiresAt: iso(grant.expiresAt), reactivated: !!existing, changeId: change.id },
    });
    return { id: grant.id, changeId: change.id, enforcement: change.enforcement };
  });
  return wakeIfPending(r);
}

async function loadActiveGrant(tx: Tx, id: string) {
  await lockRow(tx, "Grant", id);
  const g = await tx.grant.findUniqueOrThrow({ where: { id }, select: { id: true, status: true, principalId: true, scopeId: true, environmentId: true, expiresAt: true, scope: { select: { name: true } }, principal: { select: { displayName: true } } } });
  if (g.status !== "active") throw conflict(`This grant is ${g.status}`);
  return g;
}

export async function updateGrant(actor: Actor, id: string, input: unknown, client: PrismaClient = db()): Promise<GrantChange> {
  authorize(actor, "inventory:write");
  const v = parse(updateGrantInput, input);
  const r = await client.$transaction(async (tx) => {
    const g = await loadActiveGrant(tx, id);
    await tx.grant.update({ where: { id }, data: { expiresAt: v.expiresAt } });
    const change = await recordAccessChange(tx, {
      kind: "change_grant",
      actor,
      principalId: g.principalId,
      grantIds: [id],
      proxyIds: await proxyTargets(tx, g.environmentId),
      ops: [{ op: "upsert", kind: "grant", value: { id, principalId: g.principalId, scopeId: g.scopeId, expiresAt: iso(v.expiresAt) } }],
    });
    await appendAuditEvent(tx, { actor, action: "grant.update", target: `grant:${id}`, data: { principal: g.principal.displayName, scope: g.scope.name, from: iso(g.expiresAt), to: iso(v.expiresAt), changeId: change.id } });
    return { id, changeId: change.id, enforcement: change.enforcement };
  });
  return wakeIfPending(r);
}

/** Revokes one grant now: the row is kept (revoked), its open findings close, every proxy of its environment drops it. */
export async function revokeGrantById(actor: Actor, id: string, client: PrismaClient = db()): Promise<GrantChange> {
  authorize(actor, "inventory:write");
  const r = await client.$transaction(async (tx) => {
    const g = await loadActiveGrant(tx, id);
    const now = new Date();
    await tx.grant.update({ where: { id }, data: { status: "revoked", revokedAt: now } });
    await tx.finding.updateMany({ where: { grantId: id, status: "open" }, data: { status: "closed", closedAt: now, closedReason: "Grant revoked through the inventory API" } });
    const change = await recordAccessChange(tx, {
      kind: "revoke_grant",
      actor,
      principalId: g.principalId,
      grantIds: [id],
      proxyIds: await proxyTargets(tx, g.environmentId),
      ops: [{ op: "delete", kind: "grant", id }],
    });
    await appendAuditEvent(tx, { actor, action: "grant.revoke", target: `grant:${id}`, data: { principal: g.principal.displayName, scope: g.scope.name, changeId: change.id } });
    return { id, changeId: change.id, enforcement: change.enforcement };
  });
  return wakeIfPending(r);
}
