import type { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, Prisma, type PrismaClient } from "@/lib/db";
import { badRequest, notFound } from "@/lib/errors";
import { groupSets } from "@/proxy/requirements";
import { grantsWhere } from "../grants";
import {
  apiOut, apisQuery, credentialOut, credentialsQuery, decodeCursor, DEFAULT_LIMIT, encodeCursor, endpointOut, endpointsQuery, grantOut, grantsQuery,
  principalOut, principalsQuery, scopeOut, scopesQuery,
} from "./schemas";

// Reads behind the inventory API: keyset pagination on id (stable under concurrent
// writes, no OFFSET scans), filters in SQL. Every row is passed through its output
// schema, so the answer is exactly what the OpenAPI description promises.

type Out<T extends z.ZodType> = z.output<T>;
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const contains = (q: string) => ({ contains: q, mode: "insensitive" as const });

function window(q: { limit?: number; cursor?: string }) {
  const after = decodeCursor(q.cursor);
  if (after === "invalid") throw badRequest("cursor: not a cursor this API returned", "cursor");
  return { after, take: q.limit ?? DEFAULT_LIMIT };
}

function pageOf<R extends { id: string }, T>(rows: R[], take: number, map: (r: R) => T): Page<T> {
  const more = rows.length > take;
  const shown = rows.slice(0, take);
  return { data: shown.map(map), nextCursor: more ? encodeCursor(shown[shown.length - 1].id) : null };
}

const idAfter = (after: string | null) => (after ? { id: { gt: after } } : {});

/** One row by id, as its output schema; 404 when there is none. */
async function one<R, T>(actor: Actor, what: string, find: () => Promise<R | null | undefined>, map: (r: R) => T): Promise<T> {
  authorize(actor, "inventory:read");
  const r = await find();
  if (!r) throw notFound(what);
  return map(r);
}

// ---------------------------------------------------------------- principals

const principalSelect = { id: true, kind: true, displayName: true, email: true, externalId: true, status: true, teamId: true, managerId: true, homeEnvironmentId: true, statusChangedAt: true, createdAt: true } as const;
type PrincipalRow = Prisma.PrincipalGetPayload<{ select: typeof principalSelect }>;
const principal = (r: PrincipalRow) => principalOut.parse({ ...r, statusChangedAt: r.statusChangedAt.toISOString(), createdAt: r.createdAt.toISOString() });

export async function listPrincipals(actor: Actor, query: z.output<typeof principalsQuery>, client: PrismaClient = db()): Promise<Page<Out<typeof principalOut>>> {
  authorize(actor, "inventory:read");
  const { after, take } = window(query);
  const rows = await client.principal.findMany({
    where: {
      ...idAfter(after),
      ...(query.kind ? { kind: query.kind } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.team ? { teamId: query.team } : {}),
      ...(query.environment ? { homeEnvironment: { name: query.environment } } : {}),
      ...(query.q ? { OR: [{ displayName: contains(query.q) }, { externalId: contains(query.q) }, { email: contains(query.q) }] } : {}),
    },
    select: principalSelect,
    orderBy: { id: "asc" },
    take: take + 1,
  });
  return pageOf(rows, take, principal);
}

export function readPrincipal(actor: Actor, id: string, client: PrismaClient = db()) {
  return one(actor, "Principal", () => client.principal.findUnique({ where: { id }, select: principalSelect }), principal);
}

// ---------------------------------------------------------------- credentials

const credentialSelect = { id: true, principalId: true, prefix: true, origin: true, createdAt: true, rotatedAt: true, expiresAt: true, lastUsedAt: true, revokedAt: true } as const;
type CredentialRow = Prisma.CredentialGetPayload<{ select: typeof credentialSelect }>;
function credential(r: CredentialRow) {
  const status = r.revokedAt ? "revoked" : r.expiresAt && r.expiresAt.getTime() <= Date.now() ? "expired" : "active";
  return credentialOut.parse({ ...r, status, createdAt: r.createdAt.toISOString(), rotatedAt: iso(r.rotatedAt), expiresAt: iso(r.expiresAt), lastUsedAt: iso(r.lastUsedAt), revokedAt: iso(r.revokedAt) });
}

export async function listCredentials(actor: Actor, query: z.output<typeof credentialsQuery>, client: PrismaClient = db()): Promise<Page<Out<typeof credentialOut>>> {
  authorize(actor, "inventory:read");
  const { after, take } = window(query);
  const now = new Date();
  const status =
    query.status === "revoked"
      ? { revokedAt: { not: null } }
      : query.status === "expired"
        ? { revokedAt: null, expiresAt: { lte: now } }
        : query.status === "active"
          ? { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }
          : {};
  const rows = await client.credential.findMany({
    where: { ...idAfter(after), ...status, ...(query.principal ? { principalId: query.principal } : {}), ...(query.origin ? { origin: query.origin } : {}) },
    select: credentialSelect,
    orderBy: { id: "asc" },
    take: take + 1,
  });
  return pageOf(rows, take, credential);
}

export function readCredential(actor: Actor, id: string, client: PrismaClient = db()) {
  return one(actor, "Credential", () => client.credential.findUnique({ where: { id }, select: credentialSelect }), credential);
}

// ---------------------------------------------------------------- grants

interface GrantSqlRow {
  id: string;
  status: string;
  principalId: string;
  principalName: string;
  principalKind: string;
  scopeId: string;
  scopeName: string;
  scopeLevel: string;
  apiId: string;
  apiName: string;
  environment: string;
  origin: string | null;
  grantedAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}
const grant = (r: GrantSqlRow) =>
  grantOut.parse({ ...r, grantedAt: r.grantedAt.toISOString(), expiresAt: iso(r.expiresAt), lastUsedAt: iso(r.lastUsedAt), revokedAt: iso(r.revokedAt) });

const grantSelect = (where: Prisma.Sql) => Prisma.sql`
  SELECT g.id, g.status::text AS status, p.id AS "principalId", p."displayName" AS "principalName", p.kind::text AS "principalKind",
    s.id AS "scopeId", s.name AS "scopeName", s.level::text AS "scopeLevel", a.id AS "apiId", a.name AS "apiName", e.name AS environment,
    g.origin, g."grantedAt", g."expiresAt", g."lastUsedAt", g."revokedAt"
  FROM "Grant" g
  JOIN "Principal" p ON p.id = g."principalId"
  JOIN "Scope" s ON s.id = g."scopeId"
  JOIN "Api" a ON a.id = s."apiId"
  JOIN "Environment" e ON e.id = g."environmentId"
  ${where}`;

export async function listGrantsPage(actor: Actor, query: z.output<typeof grantsQuery>, client: PrismaClient = db()): Promise<Page<Out<typeof grantOut>>> {
  authorize(actor, "inventory:read");
  const { after, take } = window(query);
  const { limit: _l, cursor: _c, ...filters } = query;
  const rows = await client.$queryRaw<GrantSqlRow[]>`
    SELECT * FROM (${grantSelect(await grantsWhere(client, filters))}) t
    WHERE ${after ? Prisma.sql`t.id > ${after}::uuid` : Prisma.sql`true`}
    ORDER BY t.id LIMIT ${take + 1}`;
  return pageOf(rows, take, grant);
}

export function readGrant(actor: Actor, id: string, client: PrismaClient = db()) {
  return one(actor, "Grant", () => client.$queryRaw<GrantSqlRow[]>`${grantSelect(Prisma.sql`WHERE g.id = ${id}::uuid`)}`.then((rows) => rows[0]), grant);
}

// ---------------------------------------------------------------- APIs

const apiSelect = { id: true, name: true, description: true, baseUrl: true, environmentId: true, teamId: true, createdAt: true, updatedAt: true, environment: { select: { name: true } } } as const;
type ApiRow = Prisma.ApiGetPayload<{ select: typeof apiSelect }>;
const api = (r: ApiRow) => apiOut.parse({ ...r, environment: r.environment.name, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() });

export async function listApisPage(actor: Actor, query: z.output<typeof apisQuery>, client: PrismaClient = db()): Promise<Page<Out<typeof apiOut>>> {
  authorize(actor, "inventory:read");
  const { after, take } = window(query);
  const rows = await client.api.findMany({
    where: {
      ...idAfter(after),
      ...(query.environment ? { environment: { name: query.environment } } : {}),
      ...(query.team ? { teamId: query.team } : {}),
      ...(query.q ? { name: contains(query.q) } : {}),
    },
    select: apiSelect,
    orderBy: { id: "asc" },
    take: take + 1,
  });
  return pageOf(rows, take, api);
}

export function readApi(actor: Actor, id: string, client: PrismaClient = db()) {
  return one(actor, "API", () => client.api.findUnique({ where: { id }, select: apiSelect }), api);
}

// ---------------------------------------------------------------- endpoints

const endpointSelect = {
  id: true, apiId: true, method: true, pathTemplate: true, summary: true, sensitivity: true, public: true, deprecatedAt: true, routingStoppedAt: true, createdAt: true,
  scopes: { select: { requirementId: true, scopeId: true } },
} as const;
type EndpointRow = Prisma.EndpointGetPayload<{ select: typeof endpointSelect }>;
const endpoint = ({ scopes, ...r }: EndpointRow) =>
  endpointOut.parse({
    ...r,
    requirements: groupSets(scopes, (l) => l.requirementId, (l) => l.scopeId),
    deprecatedAt: iso(r.deprecatedAt),
    routingStoppedAt: iso(r.routingStoppedAt),
    createdAt: r.createdAt.toISOString(),
  });

export async function listEndpoints(actor: Actor, query: z.output<typeof endpointsQuery>, client: PrismaClient = db()): Promise<Page<Out<typeof endpointOut>>> {
  authorize(actor, "inventory:read");
  const { after, take } = window(query);
  const rows = await client.endpoint.findMany({
    where: {
      ...idAfter(after),
      ...(query.api ? { apiId: query.api } : {}),
      ...(query.method ? { method: query.method } : {}),
      ...(query.public !== undefined ? { public: query.public } : {}),
      ...(query.deprecated !== undefined ? { deprecatedAt: query.deprecated ? { not: null } : null } : {}),
    },
    select: endpointSelect,
    orderBy: { id: "asc" },
    take: take + 1,
  });
  return pageOf(rows, take, endpoint);
}

export function readEndpoint(actor: Actor, id: string, client: PrismaClient = db()) {
  return one(actor, "Endpoint", () => client.endpoint.findUnique({ where: { id }, select: endpointSelect }), endpoint);
}

// ---------------------------------------------------------------- scopes

const scopeSelect = { id: true, apiId: true, name: true, level: true, description: true, levelSetBy: true, deprecatedAt: true, createdAt: true } as const;
type ScopeRow = Prisma.ScopeGetPayload<{ select: typeof scopeSelect }>;
const scope = (r: ScopeRow) => scopeOut.parse({ ...r, deprecatedAt: iso(r.deprecatedAt), createdAt: r.createdAt.toISOString() });

export async function listScopes(actor: Actor, query: z.output<typeof scopesQuery>, client: PrismaClient = db()): Promise<Page<Out<typeof scopeOut>>> {
  authorize(actor, "inventory:read");
  const { after, take } = window(query);
  const rows = await client.scope.findMany({
    where: { ...idAfter(after), ...(query.api ? { apiId: query.api } : {}), ...(query.level ? { level: query.level } : {}), ...(query.q ? { name: contains(query.q) } : {}) },
    select: scopeSelect,
    orderBy: { id: "asc" },
    take: take + 1,
  });
  return pageOf(rows, take, scope);
}

export function readScope(actor: Actor, id: string, client: PrismaClient = db()) {
  return one(actor, "Scope", () => client.scope.findUnique({ where: { id }, select: scopeSelect }), scope);
}
