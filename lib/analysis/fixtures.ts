import type { PrismaClient } from "@/lib/db";
import type { ScopeLevel } from "@/lib/generated/prisma/client";

/**
 * Small named fixtures for the review-loop tests (analysis, decisions,
 * enforcement). Each helper creates exactly what its name says, so a test
 * reads as a story: "an API with read/write/admin scopes, a service account
 * that only uses read...".
 */
export const DAY = 86_400_000;
export const daysAgo = (n: number, from = new Date()) => new Date(from.getTime() - n * DAY);

let counter = 0;
const unique = (s: string) => `${s}-${++counter}-${Math.random().toString(36).slice(2, 7)}`;

export async function makeEnvironment(client: PrismaClient, tier: "production" | "staging" | "development" = "production", name?: string) {
  return client.environment.create({ data: { name: name ?? unique(tier), tier } });
}

export async function makeApi(client: PrismaClient, environmentId: string, levels: ScopeLevel[] = ["read", "write", "admin"], opts: { teamId?: string; name?: string } = {}) {
  const name = opts.name ?? unique("orders");
  const api = await client.api.create({
    data: { name, baseUrl: `http://upstream.test/${name}`, environmentId, teamId: opts.teamId },
  });
  const scopes: Record<string, { id: string; name: string; level: ScopeLevel }> = {};
  for (const level of levels) {
    scopes[level] = await client.scope.create({
      data: { apiId: api.id, name: `${name}:${level}`, level },
      select: { id: true, name: true, level: true },
    });
  }
  return { api, scopes };
}

export async function makePrincipal(
  client: PrismaClient,
  opts: { kind?: "user" | "service_account" | "api_key"; status?: "active" | "suspended" | "deprovisioned"; teamId?: string; homeEnvironmentId?: string; name?: string } = {},
) {
  return client.principal.create({
    data: {
      kind: opts.kind ?? "user",
      displayName: opts.name ?? unique("principal"),
      status: opts.status ?? "active",
      teamId: opts.teamId,
      homeEnvironmentId: opts.homeEnvironmentId,
    },
  });
}

export async function makeGrant(
  client: PrismaClient,
  opts: { principalId: string; scopeId: string; environmentId: string; grantedAt?: Date; lastUsedAt?: Date | null; expiresAt?: Date | null; grantedById?: string },
) {
  return client.grant.create({
    data: {
      principalId: opts.principalId,
      scopeId: opts.scopeId,
      environmentId: opts.environmentId,
      grantedAt: opts.grantedAt ?? daysAgo(400),
      lastUsedAt: opts.lastUsedAt ?? null,
      expiresAt: opts.expiresAt ?? null,
      grantedById: opts.grantedById,
    },
  });
}

export async function makeReviewer(client: PrismaClient, roles: string[] = ["reviewer"], principalId?: string) {
  const email = `${unique("reviewer")}@example.test`;
  const user = await client.user.create({ data: { email, name: email, roles, principalId } });
  return {
    user,
    actor: { kind: "user" as const, userId: user.id, email, name: email, roles: roles as ("admin" | "reviewer" | "manager" | "auditor")[], principalId: principalId ?? null },
  };
}
