import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { fromZod } from "@/lib/errors";

/** Open findings about endpoints (public writes in production, zombies with traffic), for the Discovery page. */
export interface EndpointFindingRow {
  id: string;
  rule: "public_write" | "zombie_traffic";
  severity: string;
  environment: string;
  apiId: string;
  apiName: string;
  method: string;
  pathTemplate: string;
  evidence: Record<string, unknown>;
  openedAt: Date;
}

const input = z.object({ environment: z.string().max(100).optional(), limit: z.number().int().min(1).max(1000).default(500) });

export async function listEndpointFindings(actor: Actor, raw: unknown = {}, client: PrismaClient = db()): Promise<EndpointFindingRow[]> {
  authorize(actor, "inventory:read");
  const parsed = input.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  const { environment, limit } = parsed.data;
  return client.$queryRaw<EndpointFindingRow[]>`
    SELECT f.id, f.rule::text AS rule, f.severity::text AS severity, env.name AS environment, a.id AS "apiId", a.name AS "apiName",
           e.method, e."pathTemplate", f.evidence, f."openedAt"
    FROM "EndpointFinding" f
    JOIN "Endpoint" e ON e.id = f."endpointId"
    JOIN "Api" a ON a.id = e."apiId"
    JOIN "Environment" env ON env.id = f."environmentId"
    WHERE f.status = 'open' AND (${environment ?? null}::text IS NULL OR env.name = ${environment ?? null})
    ORDER BY f."openedAt" DESC, f.id
    LIMIT ${limit}`;
}
