import type { z } from "zod";
import type { Actor } from "@/lib/auth/actor";
import type { Tx } from "@/lib/db";
import { fromZod, notFound } from "@/lib/errors";
import type { AccessChangeKind, EnforcementState } from "@/lib/generated/prisma/client";
import { enqueueAccessChange, type PrincipalOp } from "@/lib/enforcement/outbox";
import { actorLabel } from "@/lib/auth/actor";

export function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

export const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The person behind a user actor: their principal's team (for "manager of the team" checks). */
export async function actorTeamId(tx: Tx, actor: Actor): Promise<string | null> {
  if (actor.kind !== "user" || !actor.principalId) return null;
  const p = await tx.principal.findUnique({ where: { id: actor.principalId }, select: { teamId: true } });
  return p?.teamId ?? null;
}

/**
 * The proxies a principal's credentials go to: those of its home environment
 * (a service account belongs to one), else every proxy (people use one key everywhere).
 */
export async function credentialTargets(tx: Tx, homeEnvironmentId: string | null): Promise<string[]> {
  const rows = await tx.proxy.findMany({ where: homeEnvironmentId ? { environmentId: homeEnvironmentId } : {}, select: { id: true }, orderBy: { name: "asc" } });
  return rows.map((r) => r.id);
}

export interface ChangeInput {
  kind: AccessChangeKind;
  actor: Actor;
  principalId: string;
  credentialIds?: string[];
  grantIds?: string[];
  accessRequestId?: string | null;
  proxyIds: string[];
  ops: PrincipalOp[];
}

/**
 * Records an access change and its delivery promise in the caller's transaction:
 * one AccessChange row (enforcement pending while some proxy must acknowledge it)
 * and one outbox row per target proxy. The caller wakes delivery after commit.
 */
export async function recordAccessChange(tx: Tx, c: ChangeInput): Promise<{ id: string; enforcement: EnforcementState }> {
  const needs = c.proxyIds.length > 0 && c.ops.length > 0;
  const change = await tx.accessChange.create({
    data: {
      kind: c.kind,
      actorUserId: c.actor.kind === "user" ? c.actor.userId : null,
      actorLabel: actorLabel(c.actor),
      principalId: c.principalId,
      credentialIds: c.credentialIds ?? [],
      grantIds: c.grantIds ?? [],
      accessRequestId: c.accessRequestId ?? null,
      enforcement: needs ? "pending" : "not_required",
    },
    select: { id: true, enforcement: true },
  });
  if (needs) await enqueueAccessChange(tx, change.id, c.proxyIds, c.ops);
  return change;
}

export async function loadPrincipal(tx: Tx, id: string) {
  const p = await tx.principal.findUnique({
    where: { id },
    select: { id: true, kind: true, displayName: true, status: true, teamId: true, managerId: true, homeEnvironment: { select: { id: true, tier: true, name: true } } },
  });
  if (!p) throw notFound("Principal");
  return p;
}
export type LoadedPrincipal = Awaited<ReturnType<typeof loadPrincipal>>;
