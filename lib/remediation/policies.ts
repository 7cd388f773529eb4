import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { conflict, forbidden, fromZod, notFound } from "@/lib/errors";
import { findCandidates } from "./candidates";
import { noticePolicy } from "./notice";
import { policyIdInput, policyInput, type RemediationKindName } from "./schemas";
import { accountableFor } from "./people";

// Admin side of remediation policies: define (a draft), preview what it would
// do now, enable (notices go out at once), disable. A policy acts only once
// enabled, and its decisions are signed by the policy and the admin who enabled it.

type UserActor = Extract<Actor, { kind: "user" }>;

function requireAdmin(actor: Actor): UserActor {
  authorize(actor, "policies:manage");
  if (actor.kind !== "user") throw forbidden("A remediation policy is enabled by a signed-in admin, who signs what it does");
  return actor;
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

export async function createPolicy(actor: Actor, input: unknown, client: PrismaClient = db()) {
  const admin = requireAdmin(actor);
  const v = parse(policyInput, input);
  return client.$transaction(async (tx) => {
    if (await tx.remediationPolicy.findUnique({ where: { name: v.name }, select: { id: true } })) throw conflict(`A policy named ${v.name} exists already`);
    const p = await tx.remediationPolicy.create({ data: { name: v.name, kind: v.kind, days: v.days, noticeDays: v.noticeDays, createdById: admin.userId } });
    await appendAuditEvent(tx, { actor, action: "remediation.policy_create", target: `remediation-policy:${p.id}`, data: { name: p.name, kind: p.kind, days: p.days, noticeDays: p.noticeDays } });
    return p;
  });
}

export interface PolicyPreview {
  count: number;
  /** Items per accountable owner (or the principal, when nobody owns it). */
  byOwner: { owner: string; count: number }[];
  items: { principal: string; owner: string | null; summary: string }[];
}

export const PREVIEW_ROWS = 50;

/** Dry run: what the policy would notice at `now`. Writes nothing. */
export async function previewPolicy(actor: Actor, input: unknown, client: PrismaClient = db(), now: Date = new Date()): Promise<PolicyPreview> {
  authorize(actor, "policies:manage");
  const { policyId } = parse(policyIdInput, input);
  const p = await client.remediationPolicy.findUnique({ where: { id: policyId } });
  if (!p) throw notFound("Remediation policy");
  const found = await findCandidates(client, { id: p.id, kind: p.kind as RemediationKindName, days: p.days }, now);
  const people = await accountableFor(client, found.map((c) => c.principalId));
  const ownerIds = [...new Set([...people.values()].map((a) => a.ownerPrincipalId).filter((x): x is string => !!x))];
  const names = new Map((await client.principal.findMany({ where: { id: { in: ownerIds } }, select: { id: true, displayName: true } })).map((o) => [o.id, o.displayName]));
  const ownerOf = (principalId: string) => {
    const o = people.get(principalId)?.ownerPrincipalId;
    return o ? (names.get(o) ?? null) : null;
  };
  const counts = new Map<string, number>();
  for (const c of found) {
    const o = ownerOf(c.principalId) ?? `${c.principal} (no owner)`;
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  return {
    count: found.length,
    byOwner: [...counts.entries()].map(([owner, count]) => ({ owner, count })).sort((a, b) => b.count - a.count || a.owner.localeCompare(b.owner)),
    items: found.slice(0, PREVIEW_ROWS).map((c) => ({ principal: c.principal, owner: ownerOf(c.principalId), summary: c.summary })),
  };
}

/** Enables a policy and sends its first notices at once (the periodic run sends later ones and executes). */
export async function enablePolicy(actor: Actor, input: unknown, client: PrismaClient = db(), now: Date = new Date()): Promise<{ noticed: number }> {
  const admin = requireAdmin(actor);
  const { policyId } = parse(policyIdInput, input);
  return client.$transaction(
    async (tx) => {
      const [p] = await tx.$queryRaw<{ id: string; status: string; name: string }[]>`SELECT id, status::text, name FROM "RemediationPolicy" WHERE id = ${policyId}::uuid FOR UPDATE`;
      if (!p) throw notFound("Remediation policy");
      if (p.status === "enabled") throw conflict("This policy is already enabled");
      await tx.remediationPolicy.update({ where: { id: p.id }, data: { status: "enabled", enabledById: admin.userId, enabledAt: now } });
      await appendAuditEvent(tx, { actor, action: "remediation.policy_enable", target: `remediation-policy:${p.id}`, data: { name: p.name } });
      const noticed = await noticePolicy(tx, p.id, now);
      return { noticed };
    },
    { timeout: 120_000 },
  );
}

/** Stops a policy: nothing more is noticed or executed; live notices stay visible and can still be objected to. */
export async function disablePolicy(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<void> {
  requireAdmin(actor);
  const { policyId } = parse(policyIdInput, input);
  await client.$transaction(async (tx) => {
    const p = await tx.remediationPolicy.findUnique({ where: { id: policyId }, select: { id: true, name: true, status: true } });
    if (!p) throw notFound("Remediation policy");
    if (p.status !== "enabled") throw conflict("This policy is not enabled");
    await tx.remediationPolicy.update({ where: { id: p.id }, data: { status: "disabled" } });
    await appendAuditEvent(tx, { actor, action: "remediation.policy_disable", target: `remediation-policy:${p.id}`, data: { name: p.name } });
  });
}
