import { z } from "zod";
import { appendAuditEvent } from "@/lib/audit";
import { authorize, systemActor, type Actor } from "@/lib/auth/actor";
import { loadTwoPersonRule, requiresSecondReviewer } from "@/lib/auth/sod";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { badRequest, conflict, forbidden, notFound } from "@/lib/errors";
import type { AccessRequestStatus, EnforcementState } from "@/lib/generated/prisma/client";
import { createNotifications } from "@/lib/notifications";
import { proxyTargets, type PrincipalOp } from "@/lib/enforcement/outbox";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { iso, parse, recordAccessChange } from "./common";

// Just-in-time access (docs/SECURITY.md, "Granting access"): a person asks for
// scopes of one API for a time, with a reason; the API's owning team approves;
// approval creates time-boxed grants through the outbox like any decision.

export const DURATION_PRESETS = { "1h": 3_600, "8h": 8 * 3_600, "1d": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400, "90d": 90 * 86_400 } as const;
export const DEFAULT_MAX_ACCESS_HOURS = 90 * 24;
export const REASON_MAX = 2_000;
/** Unanswered requests expire after this long (expireStaleRequests). */
export const REQUEST_TTL_MS = 7 * 86_400_000;

const reason = (field: string) =>
  z
    .string(`${field} is required`)
    .trim()
    .min(1, "is required")
    .max(REASON_MAX, `at most ${REASON_MAX} characters`)
    // eslint-disable-next-line no-control-regex -- matching control characters is the point: a reason must not hold them
    .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/, "must not contain control characters");

export const requestAccessInput = z
  .object({
    /** Whose access: omitted = the requester's own principal; else a service account they own. */
    principalId: z.uuid("must be a principal id").optional(),
    apiId: z.uuid("must be an API id"),
    scopeIds: z
      .array(z.uuid("must be scope ids"), "is required")
      .min(1, "name at least one scope")
      .max(50, "at most 50 scopes")
      .refine((ids) => new Set(ids).size === ids.length, "duplicate scopes"),
    reason: reason("reason"),
    duration: z.enum(Object.keys(DURATION_PRESETS) as [keyof typeof DURATION_PRESETS, ...(keyof typeof DURATION_PRESETS)[]]).optional(),
    until: z.coerce.date("must be a date").optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.duration === undefined) === (v.until === undefined)) ctx.addIssue({ code: "custom", path: ["duration"], message: "choose a duration or an end date (one of them)" });
    if (v.until && v.until.getTime() <= Date.now()) ctx.addIssue({ code: "custom", path: ["until"], message: "must be in the future" });
  });

export const decideRequestInput = z.object({ requestId: z.uuid("must be a request id") });
export const denyRequestInput = z.object({ requestId: z.uuid("must be a request id"), reason: reason("reason") });

type UserActor = Extract<Actor, { kind: "user" }>;
function requirePerson(actor: Actor, permission: "access:request" | "access:approve"): UserActor {
  authorize(actor, permission);
  if (actor.kind !== "user") throw forbidden("Access requests are made and decided by signed-in people");
  return actor;
}

/** Users who may decide a request on this API: reviewers/managers of its owning team, else admins. */
async function approverPool(tx: Tx, apiTeamId: string | null): Promise<{ id: string; principalId: string | null; roles: string[] }[]> {
  if (apiTeamId) {
    const team = await tx.user.findMany({
      where: { roles: { hasSome: ["reviewer", "manager"] }, principal: { teamId: apiTeamId, kind: "user", status: "active" } },
      select: { id: true, principalId: true, roles: true },
    });
    if (team.length > 0) return team;
  }
  return tx.user.findMany({ where: { roles: { has: "admin" } }, select: { id: true, principalId: true, roles: true } });
}

interface Concerned {
  requesterId: string;
  principalId: string;
  ownerPrincipalId: string | null;
}
/** Separation of duties: nobody decides a request they made, for access they would hold or a service account they own. */
const concerns = (u: { id: string; principalId: string | null }, r: Concerned) =>
  u.id === r.requesterId || (u.principalId !== null && (u.principalId === r.principalId || u.principalId === r.ownerPrincipalId));

export interface RequestResult {
  requestId: string;
  status: AccessRequestStatus;
  approvalsNeeded: number;
  approvals: number;
  enforcement?: EnforcementState;
  grantEndsAt?: Date | null;
}

export async function requestAccess(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<RequestResult> {
  const me = requirePerson(actor, "access:request");
  const v = parse(requestAccessInput, input);
  return client.$transaction(async (tx) => {
    const principalId = v.principalId ?? me.principalId;
    if (!principalId) throw badRequest("principalId: you have no identity of your own here; name a service account you own", "principalId");
    const principal = await tx.principal.findUnique({ where: { id: principalId }, select: { id: true, kind: true, managerId: true, displayName: true, status: true } });
    if (!principal) throw badRequest("principalId: unknown principal", "principalId");
    if (principal.id !== me.principalId && !(principal.kind !== "user" && me.principalId && principal.managerId === me.principalId)) {
      throw forbidden("You can request access for yourself or a service account you own");
    }
    if (principal.status !== "active") throw conflict(`The principal is ${principal.status}`);
    const api = await tx.api.findUnique({ where: { id: v.apiId }, select: { id: true, name: true, teamId: true, environment: { select: { id: true, name: true, tier: true, maxAccessHours: true } } } });
    if (!api) throw badRequest("apiId: unknown API", "apiId");
    const scopes = await tx.scope.findMany({ where: { id: { in: v.scopeIds }, apiId: api.id, deprecatedAt: null }, select: { id: true, name: true, level: true } });
    const unknown = v.scopeIds.filter((id) => !scopes.some((s) => s.id === id));
    if (unknown.length > 0) throw badRequest(`scopeIds: unknown scope ${unknown[0]} for API ${api.name}`, "scopeIds");
    const now = new Date();
    const seconds = v.duration ? DURATION_PRESETS[v.duration] : Math.ceil((v.until!.getTime() - now.getTime()) / 1000);
    const maxHours = api.environment.maxAccessHours ?? DEFAULT_MAX_ACCESS_HOURS;
    if (seconds > maxHours * 3_600) {
      const field = v.duration ? "duration" : "until";
      throw badRequest(`${field}: exceeds the maximum of ${maxHours} hours for ${api.environment.name}`, field);
    }
    const rule = await loadTwoPersonRule(tx);
    const twoPerson = scopes.some((s) => requiresSecondReviewer({ scope: s, environment: api.environment }, rule));
    const created = await tx.accessRequest.create({
      data: {
        requesterId: me.userId,
        principalId: principal.id,
        apiId: api.id,
        environmentId: api.environment.id,
        scopeIds: v.scopeIds,
        reason: v.reason,
        durationSeconds: v.duration ? seconds : null,
        until: v.until ?? null,
        approvalsNeeded: twoPerson ? 2 : 1,
      },
      select: { id: true },
    });
    await appendAuditEvent(tx, {
      actor,
      action: "access.request",
      target: `access_request:${created.id}`,
      data: { principal: principal.displayName, api: api.name, environment: api.environment.name, scopes: scopes.map((s) => s.name), reason: v.reason, duration: v.duration ?? null, until: iso(v.until ?? null), approvalsNeeded: twoPerson ? 2 : 1 },
    });
    const approvers = (await approverPool(tx, api.teamId)).filter((u) => !concerns(u, { requesterId: me.userId, principalId: principal.id, ownerPrincipalId: principal.managerId }));
    await createNotifications(
      tx,
      approvers.map((u) => ({ userId: u.id, kind: "access.requested", message: `${me.name} asks for ${scopes.map((s) => s.name).join(", ")} on ${api.name} (${api.environment.name}) for ${principal.displayName}`, link: "/access/approvals", dedupeKey: `access.requested:${created.id}:${u.id}` })),
    );
    return { requestId: created.id, status: "pending", approvalsNeeded: twoPerson ? 2 : 1, approvals: 0 };
  });
}

/** Locks a pending request and checks that the actor may decide it (403 otherwise, nothing changed). */
async function lockForDecision(tx: Tx, me: UserActor, requestId: string) {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "AccessRequest" WHERE id = ${requestId}::uuid FOR UPDATE`;
  if (rows.length === 0) throw notFound("Access request");
  const r = await tx.accessRequest.findUniqueOrThrow({ where: { id: requestId } });
  // One after the other: a transaction is one connection, where pg 8 only queues concurrent queries (and pg 9 refuses them).
  const principal = await tx.principal.findUniqueOrThrow({ where: { id: r.principalId }, select: { id: true, displayName: true, managerId: true, status: true } });
  const api = await tx.api.findUniqueOrThrow({ where: { id: r.apiId }, select: { id: true, name: true, teamId: true, environment: { select: { id: true, name: true } } } });
  if (concerns({ id: me.userId, principalId: me.principalId }, { requesterId: r.requesterId, principalId: r.principalId, ownerPrincipalId: principal.managerId })) {
    throw forbidden("Separation of duties: you cannot decide a request you made or access you would hold or own");
  }
  const pool = await approverPool(tx, api.teamId);
  if (!pool.some((u) => u.id === me.userId)) throw forbidden("Only reviewers and managers of the API's owning team decide this request");
  if (r.status !== "pending") throw conflict(`This request is ${r.status}`);
  return { r, principal, api };
}

export async function approveAccessRequest(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<RequestResult> {
  const me = requirePerson(actor, "access:approve");
  const { requestId } = parse(decideRequestInput, input);
  const result = await client.$transaction(async (tx) => {
    const { r, principal, api } = await lockForDecision(tx, me, requestId);
    if (r.approverIds.includes(me.userId)) throw forbidden("Two-person rule: a second, different approver must approve this request");
    const approverIds = [...r.approverIds, me.userId];
    const now = new Date();
    if (approverIds.length < r.approvalsNeeded) {
      await tx.accessRequest.update({ where: { id: r.id }, data: { approverIds } });
      await appendAuditEvent(tx, { actor, action: "access.approve_first", target: `access_request:${r.id}`, data: { approvals: approverIds.length, approvalsNeeded: r.approvalsNeeded } });
      return { requestId: r.id, status: "pending" as const, approvalsNeeded: r.approvalsNeeded, approvals: approverIds.length };
    }
    if (principal.status !== "active") throw conflict(`The principal is ${principal.status}`);
    const endsAt = r.until ?? new Date(now.getTime() + r.durationSeconds! * 1000);
    if (endsAt <= now) throw conflict("The requested end date has passed; ask again");
    const grantIds: string[] = [];
    const ops: PrincipalOp[] = [];
    for (const scopeId of r.scopeIds) {
      const existing = await tx.grant.findUnique({ where: { principalId_scopeId_environmentId: { principalId: r.principalId, scopeId, environmentId: r.environmentId } } });
      // A standing grant that already lasts at least as long is left alone: approval never shortens access.
      if (existing && existing.status === "active" && (existing.expiresAt === null || existing.expiresAt >= endsAt)) continue;
      const g = existing
        ? await tx.grant.update({ where: { id: existing.id }, data: { status: "active", revokedAt: null, expiresAt: endsAt, grantedAt: now, grantedById: me.principalId, origin: "request", accessRequestId: r.id } })
        : await tx.grant.create({ data: { principalId: r.principalId, scopeId, environmentId: r.environmentId, grantedAt: now, grantedById: me.principalId, expiresAt: endsAt, origin: "request", accessRequestId: r.id } });
      grantIds.push(g.id);
      ops.push({ op: "upsert", kind: "grant", value: { id: g.id, principalId: g.principalId, scopeId: g.scopeId, expiresAt: endsAt.toISOString() } });
    }
    const change = await recordAccessChange(tx, { kind: "grant_access", actor, principalId: r.principalId, grantIds, accessRequestId: r.id, proxyIds: await proxyTargets(tx, r.environmentId), ops });
    await tx.accessRequest.update({ where: { id: r.id }, data: { approverIds, status: "approved", decidedAt: now, grantStartsAt: now, grantEndsAt: endsAt, grantIds, accessChangeId: change.id } });
    await appendAuditEvent(tx, {
      actor,
      action: "access.approve",
      target: `access_request:${r.id}`,
      data: { principal: principal.displayName, api: api.name, environment: api.environment.name, grantIds, startsAt: now.toISOString(), endsAt: endsAt.toISOString(), approverIds, changeId: change.id },
    });
    await createNotifications(tx, [{ userId: r.requesterId, kind: "access.approved", message: `Your access request on ${api.name} (${api.environment.name}) was approved until ${endsAt.toISOString().slice(0, 16).replace("T", " ")} UTC`, link: "/access/requests", dedupeKey: `access.approved:${r.id}` }]);
    return { requestId: r.id, status: "approved" as const, approvalsNeeded: r.approvalsNeeded, approvals: approverIds.length, enforcement: change.enforcement, grantEndsAt: endsAt };
  });
  if (result.enforcement === "pending") wakeDelivery();
  return result;
}

export async function denyAccessRequest(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<RequestResult> {
  const me = requirePerson(actor, "access:approve");
  const v = parse(denyRequestInput, input);
  return client.$transaction(async (tx) => {
    const { r, api } = await lockForDecision(tx, me, v.requestId);
    await tx.accessRequest.update({ where: { id: r.id }, data: { status: "denied", deniedById: me.userId, denyReason: v.reason, decidedAt: new Date() } });
    await appendAuditEvent(tx, { actor, action: "access.deny", target: `access_request:${r.id}`, data: { reason: v.reason, api: api.name, environment: api.environment.name } });
    await createNotifications(tx, [{ userId: r.requesterId, kind: "access.denied", message: `Your access request on ${api.name} (${api.environment.name}) was denied: ${v.reason.slice(0, 200)}`, link: "/access/requests", dedupeKey: `access.denied:${r.id}` }]);
    return { requestId: r.id, status: "denied" as const, approvalsNeeded: r.approvalsNeeded, approvals: r.approverIds.length };
  });
}

/** Job (pg-boss, lib/enforcement/background.ts): requests unanswered for 7 days expire. Returns how many. */
export async function expireStaleRequests(client: PrismaClient, now: Date): Promise<number> {
  return client.$transaction(async (tx) => {
    const cutoff = new Date(now.getTime() - REQUEST_TTL_MS);
    const rows = await tx.$queryRaw<{ id: string; requesterId: string }[]>`
      UPDATE "AccessRequest" SET status = 'expired', "decidedAt" = ${now}
      WHERE status = 'pending' AND "createdAt" < ${cutoff} RETURNING id, "requesterId"`;
    if (rows.length === 0) return 0;
    await appendAuditEvent(tx, { actor: systemActor("access-requests"), action: "access.request_expired", target: null, data: { requestIds: rows.map((r) => r.id), olderThan: cutoff.toISOString() } });
    await createNotifications(tx, rows.map((r) => ({ userId: r.requesterId, kind: "access.expired", message: "Your access request expired after 7 days without an answer; ask again if you still need it", link: "/access/requests", dedupeKey: `access.expired:${r.id}` })));
    return rows.length;
  });
}

/**
 * Job: the proxy already refuses a time-boxed grant from its end on (it checks
 * expiresAt per request); afterwards the dashboard marks such grants expired
 * and records when it noticed, next to when access ended. Returns how many grants.
 */
export async function markExpiredGrants(client: PrismaClient, now: Date): Promise<number> {
  return client.$transaction(async (tx) => {
    const grants = await tx.$queryRaw<{ id: string; accessRequestId: string | null; expiresAt: Date }[]>`
      UPDATE "Grant" SET status = 'expired', "updatedAt" = ${now}
      WHERE status = 'active' AND "expiresAt" IS NOT NULL AND "expiresAt" <= ${now} AND origin = 'request'
      RETURNING id, "accessRequestId", "expiresAt"`;
    if (grants.length === 0) return 0;
    const requestIds = [...new Set(grants.map((g) => g.accessRequestId).filter((x): x is string => x !== null))];
    await tx.accessRequest.updateMany({ where: { id: { in: requestIds }, expiredMarkedAt: null }, data: { expiredMarkedAt: now } });
    await appendAuditEvent(tx, {
      actor: systemActor("access-expiry"),
      action: "access.grant_expired",
      target: null,
      data: { grants: grants.map((g) => ({ id: g.id, accessRequestId: g.accessRequestId, endedAt: g.expiresAt.toISOString() })), markedAt: now.toISOString() },
    });
    return grants.length;
  });
}

/** Admins set an environment's maximum for access requests (hours; null = the default 90 days). */
export const environmentMaxInput = z.object({ environmentId: z.uuid("must be an environment id"), maxAccessHours: z.coerce.number().int("must be whole hours").min(1).max(24 * 366).nullable() });
export async function setEnvironmentMaxAccess(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<void> {
  authorize(actor, "settings:write");
  const v = parse(environmentMaxInput, input);
  await client.$transaction(async (tx) => {
    const env = await tx.environment.findUnique({ where: { id: v.environmentId }, select: { name: true, maxAccessHours: true } });
    if (!env) throw badRequest("environmentId: unknown environment", "environmentId");
    await tx.environment.update({ where: { id: v.environmentId }, data: { maxAccessHours: v.maxAccessHours } });
    await appendAuditEvent(tx, { actor, action: "settings.access_max", target: `environment:${v.environmentId}`, data: { environment: env.name, from: env.maxAccessHours, to: v.maxAccessHours } });
  });
}
