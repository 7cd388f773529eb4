import { z } from "zod";
import { db, type PrismaClient } from "@/lib/db";
import { fromZod } from "@/lib/errors";
import { authorize, type Actor } from "./actor";
import { createServiceToken, type CreatedServiceToken } from "./service-tokens";

/** The scopes an admin may give a token from the UI (what integrations use today). */
export const SERVICE_TOKEN_SCOPES = ["usage:ingest", "proxy:sync", "imports:write", "scim", "reports:export", "inventory:read", "inventory:write"] as const;

export const createTokenForm = z.object({
  name: z.string().trim().min(1, "give the token a name").max(100),
  scopes: z.array(z.enum(SERVICE_TOKEN_SCOPES)).min(1, "pick at least one scope"),
});

export const revokeTokenForm = z.object({ tokenId: z.uuid("must be a token id") });

/** Creates a token from the admin form (fixed scope list); the plaintext is returned once. */
export async function createTokenFromForm(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<CreatedServiceToken> {
  authorize(actor, "tokens:manage");
  const parsed = createTokenForm.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  return createServiceToken(actor, parsed.data, client);
}

export interface ServiceTokenRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export async function listServiceTokens(actor: Actor, client: PrismaClient = db()): Promise<ServiceTokenRow[]> {
  authorize(actor, "tokens:manage");
  const rows = await client.serviceToken.findMany({
    orderBy: [{ revokedAt: { sort: "desc", nulls: "first" } }, { createdAt: "desc" }],
    take: 500,
    select: { id: true, name: true, prefix: true, scopes: true, createdAt: true, lastUsedAt: true, revokedAt: true, createdBy: { select: { email: true } } },
  });
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    scopes: r.scopes,
    createdBy: r.createdBy?.email ?? null,
    createdAt: r.createdAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
  }));
}
