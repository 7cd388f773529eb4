import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import type { GrantRow } from "./grants";

export interface PrincipalDetail {
  id: string;
  kind: "user" | "service_account" | "api_key";
  displayName: string;
  email: string | null;
  externalId: string | null;
  status: "active" | "suspended" | "deprovisioned";
  statusChangedAt: Date;
  createdAt: Date;
  team: string | null;
  manager: { id: string; displayName: string } | null;
  homeEnvironment: string | null;
  credentials: {
    id: string;
    prefix: string;
    createdAt: Date;
    rotatedAt: Date | null;
    /** Days since the credential was created or last rotated. */
    ageDays: number;
    expiresAt: Date | null;
    expired: boolean;
    lastUsedAt: Date | null;
    revokedAt: Date | null;
  }[];
  /** The principal's grants, in the grants list's terms, with their requests over 90 days. */
  grants: (Omit<GrantRow, `principal${string}`> & { requests90d: number })[];
  /** Requests per day over the last 90 days (all grants), oldest first, zero-filled. */
  usage: { day: string; requests: number }[];
}

const DAY = 86_400_000;

/** A principal with its credentials, grants and 90-day usage. Null for an unknown or malformed id. */
export async function getPrincipal(actor: Actor, id: string, client: PrismaClient = db()): Promise<PrincipalDetail | null> {
  authorize(actor, "inventory:read");
  if (!z.guid().safeParse(id).success) return null;
  const p = await client.principal.findUnique({
    where: { id },
    include: {
      team: { select: { name: true } },
      manager: { select: { id: true, displayName: true } },
      homeEnvironment: { select: { name: true } },
      credentials: { orderBy: [{ revokedAt: { sort: "desc", nulls: "first" } }, { createdAt: "desc" }] },
    },
  });
  if (!p) return null;
  const [grants, usage] = await Promise.all([
    client.$queryRaw<PrincipalDetail["grants"]>`
      SELECT g.id, g.status::text AS status, s.id AS "scopeId", s.name AS "scopeName", s.level::text AS "scopeLevel",
        a.id AS "apiId", a.name AS "apiName", e.name AS environment, g."grantedAt", g."expiresAt", g."lastUsedAt", g."revokedAt",
        coalesce((SELECT sum(u."requestCount") FROM "GrantUsageDaily" u
                  WHERE u."grantId" = g.id AND u.day > current_date - 90), 0)::float8 AS "requests90d"
      FROM "Grant" g
      JOIN "Scope" s ON s.id = g."scopeId"
      JOIN "Api" a ON a.id = s."apiId"
      JOIN "Environment" e ON e.id = g."environmentId"
      WHERE g."principalId" = ${id}::uuid
      ORDER BY CASE g.status WHEN 'active' THEN 0 ELSE 1 END, CASE e.tier WHEN 'production' THEN 0 WHEN 'staging' THEN 1 ELSE 2 END, a.name, s.level, s.name`,
    client.$queryRaw<{ day: string; requests: number }[]>`
      SELECT to_char(d.day, 'YYYY-MM-DD') AS day, coalesce(sum(u."requestCount"), 0)::float8 AS requests
      FROM generate_series(current_date - 89, current_date, interval '1 day') AS d(day)
      LEFT JOIN "GrantUsageDaily" u ON u.day = d.day::date
        AND u."grantId" IN (SELECT g.id FROM "Grant" g WHERE g."principalId" = ${id}::uuid)
      GROUP BY d.day ORDER BY d.day`,
  ]);
  const now = Date.now();
  return {
    id: p.id,
    kind: p.kind,
    displayName: p.displayName,
    email: p.email,
    externalId: p.externalId,
    status: p.status,
    statusChangedAt: p.statusChangedAt,
    createdAt: p.createdAt,
    team: p.team?.name ?? null,
    manager: p.manager,
    homeEnvironment: p.homeEnvironment?.name ?? null,
    credentials: p.credentials.map((c) => ({
      id: c.id,
      prefix: c.prefix,
      createdAt: c.createdAt,
      rotatedAt: c.rotatedAt,
      ageDays: Math.floor((now - (c.rotatedAt ?? c.createdAt).getTime()) / DAY),
      expiresAt: c.expiresAt,
      expired: c.expiresAt !== null && c.expiresAt.getTime() < now,
      lastUsedAt: c.lastUsedAt,
      revokedAt: c.revokedAt,
    })),
    grants,
    usage,
  };
}
