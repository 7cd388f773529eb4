import { z } from "zod";
import { appendAuditEvent } from "@/lib/audit";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { badRequest, forbidden, notFound } from "@/lib/errors";
import { plainText } from "@/lib/validation/text";
import { actorTeamId, parse } from "./common";

export const createServiceAccountInput = z.object({
  name: plainText(200),
  teamId: z.uuid("must be a team id"),
  /** The accountable owner: a person (Principal of kind user). */
  ownerPrincipalId: z.uuid("must be a person's principal id"),
  environmentId: z.uuid("must be an environment id"),
});

export interface CreatedServiceAccount {
  principalId: string;
}

/**
 * Admins create a service account for any team; managers only for their own
 * team. The owner must be an active person; the account belongs to one environment.
 */
export async function createServiceAccount(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<CreatedServiceAccount> {
  authorize(actor, "serviceAccounts:create");
  const v = parse(createServiceAccountInput, input);
  return client.$transaction(async (tx) => {
    const team = await tx.team.findFirst({ where: { id: v.teamId, deletedAt: null }, select: { id: true, name: true } });
    if (!team) throw badRequest("teamId: unknown team", "teamId");
    const isAdmin = actor.kind !== "user" || actor.roles.includes("admin");
    if (!isAdmin && (await actorTeamId(tx, actor)) !== v.teamId) throw forbidden("Managers create service accounts for their own team only");
    const env = await tx.environment.findUnique({ where: { id: v.environmentId }, select: { id: true, name: true } });
    if (!env) throw badRequest("environmentId: unknown environment", "environmentId");
    const owner = await tx.principal.findUnique({ where: { id: v.ownerPrincipalId }, select: { id: true, kind: true, status: true, displayName: true } });
    if (!owner || owner.kind !== "user") throw badRequest("ownerPrincipalId: must be a person", "ownerPrincipalId");
    if (owner.status !== "active") throw badRequest("ownerPrincipalId: the owner is not active", "ownerPrincipalId");
    const sa = await tx.principal.create({
      data: { kind: "service_account", displayName: v.name, teamId: team.id, managerId: owner.id, homeEnvironmentId: env.id },
      select: { id: true },
    });
    await appendAuditEvent(tx, {
      actor,
      action: "service_account.create",
      target: `principal:${sa.id}`,
      data: { name: v.name, team: team.name, owner: owner.displayName, environment: env.name },
    });
    return { principalId: sa.id };
  });
}

/** Service accounts the actor may manage keys for (admins: all), newest first, for the dashboard. */
export async function listManagedServiceAccounts(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "credentials:manage");
  const isAdmin = actor.kind !== "user" || actor.roles.includes("admin");
  const teamId = isAdmin ? null : await actorTeamId(client as never, actor);
  const principalId = actor.kind === "user" ? actor.principalId : null;
  if (!isAdmin && !principalId) return [];
  const managerOf = !isAdmin && actor.kind === "user" && actor.roles.includes("manager") && teamId ? [{ teamId }] : [];
  return client.principal.findMany({
    where: { kind: "service_account", ...(isAdmin ? {} : { OR: [{ managerId: principalId }, ...managerOf] }) },
    orderBy: { createdAt: "desc" },
    take: 200,
    select: {
      id: true,
      displayName: true,
      status: true,
      team: { select: { name: true } },
      manager: { select: { displayName: true } },
      homeEnvironment: { select: { name: true } },
      credentials: {
        orderBy: { createdAt: "desc" },
        select: { id: true, prefix: true, createdAt: true, expiresAt: true, rotatedAt: true, revokedAt: true, origin: true },
      },
    },
  });
}

export const unknownPrincipal = () => notFound("Principal");

/** Choices for the "new service account" form: the teams the actor may create for, people, environments. */
export async function serviceAccountFormOptions(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "serviceAccounts:create");
  const isAdmin = actor.kind !== "user" || actor.roles.includes("admin");
  const ownTeam = isAdmin ? null : await actorTeamId(client as never, actor);
  const [teams, people, environments] = await Promise.all([
    client.team.findMany({ where: { deletedAt: null, ...(isAdmin ? {} : { id: ownTeam ?? "00000000-0000-0000-0000-000000000000" }) }, orderBy: { name: "asc" }, select: { id: true, name: true }, take: 500 }),
    client.principal.findMany({ where: { kind: "user", status: "active", user: { isNot: null } }, orderBy: { displayName: "asc" }, select: { id: true, displayName: true }, take: 1000 }),
    client.environment.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } }),
  ]);
  return { teams, people, environments };
}

/** The latest access change per principal (its enforcement state), for "shown as enforced". */
export async function latestChanges(principalIds: string[], client: PrismaClient = db()) {
  if (principalIds.length === 0) return new Map<string, { kind: string; enforcement: string; enforcedAt: Date | null; createdAt: Date }>();
  const rows = await client.$queryRaw<{ principalId: string; kind: string; enforcement: string; enforcedAt: Date | null; createdAt: Date }[]>`
    SELECT DISTINCT ON ("principalId") "principalId", kind::text AS kind, enforcement::text AS enforcement, "enforcedAt", "createdAt"
    FROM "AccessChange" WHERE "principalId" = ANY(${principalIds}::uuid[]) ORDER BY "principalId", "createdAt" DESC`;
  return new Map(rows.map((r) => [r.principalId, r]));
}
