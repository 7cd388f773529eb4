import { z } from "zod";
import { appendAuditEvent } from "@/lib/audit";
import { authorize, type Actor } from "@/lib/auth/actor";
import { analyzePrincipal } from "@/lib/analysis";
import { parse } from "@/lib/access/common";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { badRequest, conflict } from "@/lib/errors";
import { enqueuePrincipalAccess } from "@/lib/enforcement/outbox";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { plainText } from "@/lib/validation/text";
import { lockRow, uniqueConflict } from "./common";

// Principals created, changed and deprovisioned through the inventory API (issue 15).
// A status change follows the principal to every proxy through the outbox, exactly
// like SCIM's (lib/scim/users.ts): deprovisioned or suspended → its keys and grants stop.

const ref = (what: string) => z.uuid(`must be ${what} id`).nullable().optional();

export const createPrincipalInput = z.strictObject({
  kind: z.enum(["user", "service_account", "api_key"]).meta({ description: "A person, a service account, or a bare API key holder" }),
  displayName: plainText(300),
  email: z.email("must be an email address").max(320).nullable().optional(),
  externalId: plainText(300).nullable().optional().meta({ description: "The id in the system of record (unique)" }),
  teamId: ref("a team"),
  managerId: ref("a principal").meta({ description: "The accountable person (owner of a service account)" }),
  homeEnvironmentId: ref("an environment").meta({ description: "The one environment a non-human principal belongs to" }),
});

export const updatePrincipalInput = createPrincipalInput
  .omit({ kind: true })
  .partial()
  .extend({
    status: z.enum(["active", "suspended", "deprovisioned"]).optional().meta({ description: "Suspending or deprovisioning stops the principal's keys and grants at every proxy" }),
  });

async function checkRefs(tx: Tx, v: { teamId?: string | null; managerId?: string | null; homeEnvironmentId?: string | null }, selfId: string | null): Promise<void> {
  if (v.teamId && !(await tx.team.findFirst({ where: { id: v.teamId, deletedAt: null }, select: { id: true } }))) throw badRequest("teamId: unknown team", "teamId");
  if (v.homeEnvironmentId && !(await tx.environment.findUnique({ where: { id: v.homeEnvironmentId }, select: { id: true } }))) {
    throw badRequest("homeEnvironmentId: unknown environment", "homeEnvironmentId");
  }
  if (v.managerId) {
    if (v.managerId === selfId) throw badRequest("managerId: a principal cannot be its own manager", "managerId");
    const m = await tx.principal.findUnique({ where: { id: v.managerId }, select: { kind: true } });
    if (!m || m.kind !== "user") throw badRequest("managerId: must be a person's principal id", "managerId");
  }
}

export async function createPrincipal(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<{ id: string }> {
  authorize(actor, "inventory:write");
  const v = parse(createPrincipalInput, input);
  return client.$transaction(async (tx) => {
    await checkRefs(tx, v, null);
    const row = await uniqueConflict("externalId is already taken", () =>
      tx.principal.create({
        data: { kind: v.kind, displayName: v.displayName, email: v.email ?? null, externalId: v.externalId ?? null, teamId: v.teamId ?? null, managerId: v.managerId ?? null, homeEnvironmentId: v.homeEnvironmentId ?? null },
        select: { id: true },
      }),
    );
    await appendAuditEvent(tx, { actor, action: "principal.create", target: `principal:${row.id}`, data: { kind: v.kind, displayName: v.displayName, externalId: v.externalId ?? null } });
    return row;
  });
}

export async function updatePrincipal(actor: Actor, id: string, input: unknown, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  const v = parse(updatePrincipalInput, input);
  const r = await client.$transaction(async (tx) => {
    await lockRow(tx, "Principal", id);
    const current = await tx.principal.findUniqueOrThrow({ where: { id }, select: { status: true, displayName: true } });
    await checkRefs(tx, v, id);
    const now = new Date();
    const statusChanged = v.status !== undefined && v.status !== current.status;
    const { status, ...fields } = v;
    await uniqueConflict("externalId is already taken", () =>
      tx.principal.update({
        where: { id },
        data: {
          ...fields,
          ...(statusChanged
            ? {
                status,
                statusChangedAt: now,
                suspendedAt: status === "suspended" ? now : null,
                deprovisionedAt: status === "deprovisioned" ? now : null,
              }
            : {}),
        },
      }),
    );
    await appendAuditEvent(tx, { actor, action: "principal.update", target: `principal:${id}`, data: { changed: Object.keys(v).sort(), ...(statusChanged ? { from: current.status, to: status } : {}) } });
    let outboxRows = 0;
    if (statusChanged) {
      // The orphan rule runs in this transaction, so the principal's grants are in the queue at commit.
      if (status !== "active") await analyzePrincipal(tx, id);
      outboxRows = await enqueuePrincipalAccess(tx, id, status === "active");
    }
    return { id, outboxRows };
  });
  if (r.outboxRows > 0) wakeDelivery();
  return r;
}

/**
 * DELETE on a principal deprovisions it: the row stays for the audit trail and the
 * review history, its keys and grants stop at every proxy.
 */
export async function deprovisionPrincipal(actor: Actor, id: string, client: PrismaClient = db()): Promise<{ id: string; outboxRows: number }> {
  authorize(actor, "inventory:write");
  const current = await client.principal.findUnique({ where: { id }, select: { status: true } });
  if (current?.status === "deprovisioned") throw conflict("The principal is already deprovisioned");
  return updatePrincipal(actor, id, { status: "deprovisioned" }, client);
}
