import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { appendAuditEvent } from "@/lib/audit";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { AppError, fromZod, notFound } from "@/lib/errors";

/**
 * Service tokens: bearer tokens for machines (the proxy's snapshot pull and
 * usage push, imports, SCIM). The plaintext (`tgs_` + 32 random bytes,
 * base64url) is returned once at creation; only a display prefix and its
 * SHA-256 are stored.
 */

const TOKEN_PREFIX = "tgs_";
const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

const createInput = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.string().regex(/^[a-z][a-z0-9_-]*(:[a-z0-9_-]+)*$/, "must look like 'area:verb'")).min(1).max(20),
});

export interface CreatedServiceToken {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  /** The plaintext token. Shown once; never stored. */
  token: string;
}

export async function createServiceToken(
  actor: Actor,
  input: { name: string; scopes: string[] },
  client: PrismaClient = db(),
): Promise<CreatedServiceToken> {
  authorize(actor, "tokens:manage");
  const parsed = createInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const prefix = token.slice(0, 12);
  const scopes = [...new Set(parsed.data.scopes)];
  return client.$transaction(async (tx) => {
    const row = await tx.serviceToken.create({
      data: {
        name: parsed.data.name,
        prefix,
        hash: hashToken(token),
        scopes,
        createdById: actor.kind === "user" ? actor.userId : null,
      },
      select: { id: true },
    });
    await appendAuditEvent(tx, { actor, action: "service_token.create", target: `service_token:${row.id}`, data: { name: parsed.data.name, prefix, scopes } });
    return { id: row.id, name: parsed.data.name, prefix, scopes, token };
  });
}

const unauthenticated = () => new AppError("unauthenticated", "A valid service token is required");

/**
 * The service actor for an `Authorization` header value (or the bare token).
 * Unknown, malformed or revoked tokens are refused with the same error, so a
 * caller cannot tell them apart.
 */
export async function authenticateServiceToken(bearer: string | null, client: PrismaClient = db()): Promise<Actor> {
  if (!bearer) throw unauthenticated();
  const m = /^(?:Bearer\s+)?(tgs_[A-Za-z0-9_-]{20,100})\s*$/i.exec(bearer.trim());
  if (!m) throw unauthenticated();
  const row = await client.serviceToken.findUnique({ where: { hash: hashToken(m[1]) }, select: { id: true, name: true, scopes: true, revokedAt: true } });
  if (!row || row.revokedAt) throw unauthenticated();
  // lastUsedAt is informational: a minute's precision keeps hot callers from writing on every request.
  await client.serviceToken.updateMany({
    where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(Date.now() - 60_000) } }] },
    data: { lastUsedAt: new Date() },
  });
  return { kind: "service", tokenId: row.id, name: row.name, scopes: row.scopes };
}

export async function revokeServiceToken(actor: Actor, tokenId: string, client: PrismaClient = db()): Promise<void> {
  authorize(actor, "tokens:manage");
  if (!z.guid().safeParse(tokenId).success) throw notFound("Service token");
  await client.$transaction(async (tx) => {
    const row = await tx.serviceToken.findUnique({ where: { id: tokenId }, select: { id: true, revokedAt: true, name: true } });
    if (!row) throw notFound("Service token");
    if (row.revokedAt) return; // already revoked: nothing to change or audit
    await tx.serviceToken.update({ where: { id: tokenId }, data: { revokedAt: new Date() } });
    await appendAuditEvent(tx, { actor, action: "service_token.revoke", target: `service_token:${tokenId}`, data: { name: row.name } });
  });
}
