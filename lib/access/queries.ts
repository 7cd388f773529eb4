import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { forbidden } from "@/lib/errors";
import { actorTeamId } from "./common";

// Server-driven tables for /access/approvals and /access/requests: page, status
// filter and order come from the URL and run in SQL.
export const requestListParams = z.object({
  page: z.coerce.number().int().min(1).max(10_000).catch(1),
  status: z.enum(["pending", "approved", "denied", "expired", "all"]).catch("pending"),
});
export type RequestListParams = z.infer<typeof requestListParams>;
export const PAGE_SIZE = 25;

export interface RequestRow {
  id: string;
  createdAt: Date;
  status: string;
  requester: string;
  principal: string;
  api: string;
  environment: string;
  scopes: string[];
  reason: string;
  durationSeconds: number | null;
  until: Date | null;
  approvalsNeeded: number;
  approvals: number;
  approvedByMe: boolean;
  grantStartsAt: Date | null;
  grantEndsAt: Date | null;
  enforcement: string | null;
  enforcedAt: Date | null;
  denyReason: string | null;
}

const SELECT = `
  SELECT r.id, r."createdAt", r.status::text AS status, ru.name AS requester, p."displayName" AS principal, a.name AS api,
         e.name AS environment, ARRAY(SELECT s.name FROM "Scope" s WHERE s.id = ANY(r."scopeIds") ORDER BY s.name) AS scopes,
         r.reason, r."durationSeconds", r.until, r."approvalsNeeded", cardinality(r."approverIds") AS approvals,
         ($1::uuid = ANY(r."approverIds")) AS "approvedByMe", r."grantStartsAt", r."grantEndsAt",
         c.enforcement::text AS enforcement, c."enforcedAt", r."denyReason", count(*) OVER () AS total
  FROM "AccessRequest" r
  JOIN "User" ru ON ru.id = r."requesterId"
  JOIN "Principal" p ON p.id = r."principalId"
  JOIN "Api" a ON a.id = r."apiId"
  JOIN "Environment" e ON e.id = r."environmentId"
  LEFT JOIN "AccessChange" c ON c.id = r."accessChangeId"`;

type Raw = RequestRow & { total: bigint };
const page = (rows: Raw[]) => ({ rows: rows.map(({ total: _t, ...r }) => ({ ...r, approvals: Number(r.approvals) })), total: Number(rows[0]?.total ?? 0) });

export async function listMyRequests(actor: Actor, params: RequestListParams, client: PrismaClient = db()) {
  authorize(actor, "access:request");
  if (actor.kind !== "user") throw forbidden("Requests belong to a signed-in person");
  const rows = await client.$queryRawUnsafe<Raw[]>(
    `${SELECT} WHERE r."requesterId" = $1::uuid AND ($2 = 'all' OR r.status::text = $2)
     ORDER BY r."createdAt" DESC, r.id LIMIT ${PAGE_SIZE} OFFSET $3`,
    actor.userId,
    params.status,
    (params.page - 1) * PAGE_SIZE,
  );
  return page(rows);
}

/**
 * The approvals inbox: requests on APIs of the caller's team (reviewers and
 * managers), or — for admins — on APIs whose team has no approver; requests the
 * caller made or that concern them are left out (they could not decide them).
 */
export async function listApprovalInbox(actor: Actor, params: RequestListParams, client: PrismaClient = db()) {
  authorize(actor, "access:approve");
  if (actor.kind !== "user") throw forbidden("Approvals belong to a signed-in person");
  const teamId = (await actorTeamId(client as never, actor)) ?? null;
  const approver = actor.roles.includes("reviewer") || actor.roles.includes("manager");
  const isAdmin = actor.roles.includes("admin");
  const rows = await client.$queryRawUnsafe<Raw[]>(
    `${SELECT}
     WHERE ($2 = 'all' OR r.status::text = $2)
       AND r."requesterId" <> $1::uuid
       AND ($4::uuid IS NULL OR (r."principalId" <> $4::uuid AND p."managerId" IS DISTINCT FROM $4::uuid))
       AND ((${approver ? "true" : "false"} AND a."teamId" = $5::uuid)
         OR (${isAdmin ? "true" : "false"} AND NOT EXISTS (
              SELECT 1 FROM "User" u JOIN "Principal" up ON up.id = u."principalId"
              WHERE up."teamId" = a."teamId" AND up.kind = 'user' AND up.status = 'active' AND u.roles && ARRAY['reviewer','manager']::text[])))
     ORDER BY r."createdAt" ${params.status === "pending" ? "ASC" : "DESC"}, r.id LIMIT ${PAGE_SIZE} OFFSET $3`,
    actor.userId,
    params.status,
    (params.page - 1) * PAGE_SIZE,
    actor.principalId,
    teamId,
  );
  return page(rows);
}

/** Choices for the request form: APIs with their scopes, and the principals the caller may request for. */
export async function requestFormOptions(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "access:request");
  if (actor.kind !== "user") throw forbidden("Requests belong to a signed-in person");
  const [apis, principals] = await Promise.all([
    client.api.findMany({
      orderBy: [{ name: "asc" }],
      take: 500,
      select: { id: true, name: true, environment: { select: { name: true, maxAccessHours: true } }, scopes: { where: { deprecatedAt: null }, orderBy: { name: "asc" }, select: { id: true, name: true, level: true } } },
    }),
    actor.principalId
      ? client.principal.findMany({ where: { OR: [{ id: actor.principalId }, { kind: { not: "user" }, managerId: actor.principalId }], status: "active" }, select: { id: true, displayName: true, kind: true } })
      : Promise.resolve([]),
  ]);
  return { apis, principals, self: actor.principalId };
}

/** Each environment's maximum for access requests (null = the default), for the admins' settings form. */
export async function environmentAccessMaximums(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "settings:write");
  return client.environment.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true, maxAccessHours: true } });
}
