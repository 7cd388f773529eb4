import { z } from "zod";
import { systemActor, type Actor, type Permission } from "@/lib/auth/actor";
import type { PrismaClient } from "@/lib/db";
import type { EnforcementState } from "@/lib/generated/prisma/client";
import { changeKeyExpiryInput, issueKeyInput, changeKeyExpiry, issueKey, revokeKey } from "@/lib/access/credentials";
import { createPrincipal, createPrincipalInput, deprovisionPrincipal, updatePrincipal, updatePrincipalInput } from "../manage/principals";
import { createGrant, createGrantInput, revokeGrantById, updateGrant, updateGrantInput } from "../manage/grants";
import {
  createApi, createApiInput, createEndpoint, createEndpointInput, createScope, createScopeInput, deleteApi, deleteEndpoint, deleteScope,
  updateApi, updateApiInput, updateEndpoint, updateEndpointInput, updateScope, updateScopeInput,
} from "../manage/catalog";
import * as read from "./read";
import {
  apiOut, apisQuery, credentialOut, credentialsQuery, endpointOut, endpointsQuery, grantOut, grantsQuery, pageOf, principalOut, principalsQuery,
  scopeOut, scopesQuery, writeResultOf,
} from "./schemas";

/**
 * The inventory API as data: every route's method, path, permission and the zod
 * schemas it validates with and answers in. The route handlers (http.ts) and the
 * OpenAPI description (openapi.ts) both read this one table. Writes call the same
 * lib/ use cases as the dashboard, which authorize, audit and queue proxy updates
 * in one transaction.
 */
export interface Operation {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** OpenAPI path under /api/v1, e.g. "/grants/{id}". */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  permission: Permission;
  query?: z.ZodObject;
  body?: z.ZodType;
  status: 200 | 201;
  response: z.ZodType;
  run(ctx: { actor: Actor; id: string; query: unknown; body: unknown; client?: PrismaClient }): Promise<unknown>;
}

/** A write's answer: the row as it is now, read back (a write-only token may not read, but it may see what it wrote). */
const reader = systemActor("inventory-api");
const result = (data: unknown, change: { changeId?: string | null; enforcement?: EnforcementState; outboxRows?: number }) => ({
  data,
  changeId: change.changeId ?? null,
  enforcement: change.enforcement ?? (change.outboxRows ? "pending" : "not_required"),
});

interface ResourceSpec<Q extends z.ZodObject> {
  path: string;
  one: string;
  tag: string;
  out: z.ZodType;
  query: Q;
  listDescription?: string;
  list(actor: Actor, q: z.output<Q>, client?: PrismaClient): Promise<unknown>;
  read(actor: Actor, id: string, client?: PrismaClient): Promise<unknown>;
  create: { body: z.ZodType; summary?: string; description?: string; response?: z.ZodType; run(actor: Actor, body: unknown, client?: PrismaClient): Promise<unknown> };
  update: { body: z.ZodType; description?: string; run(actor: Actor, id: string, body: unknown, client?: PrismaClient): Promise<unknown> };
  remove: { summary: string; description: string; run(actor: Actor, id: string, client?: PrismaClient): Promise<unknown> };
}

function resource<Q extends z.ZodObject>(r: ResourceSpec<Q>): Operation[] {
  const Name = r.one[0].toUpperCase() + r.one.slice(1).replace(/ (\w)/g, (_, c: string) => c.toUpperCase());
  const item = `${r.path}/{id}`;
  const written = writeResultOf(r.out);
  return [
    {
      method: "GET", path: r.path, operationId: `list${Name}s`, summary: `List ${r.one}s`, description: r.listDescription, tag: r.tag, permission: "inventory:read",
      query: r.query, status: 200, response: pageOf(r.out),
      run: ({ actor, query, client }) => r.list(actor, query as z.output<Q>, client),
    },
    {
      method: "GET", path: item, operationId: `get${Name}`, summary: `Read one ${r.one}`, tag: r.tag, permission: "inventory:read", status: 200, response: r.out,
      run: ({ actor, id, client }) => r.read(actor, id, client),
    },
    {
      method: "POST", path: r.path, operationId: `create${Name}`, summary: r.create.summary ?? `Create ${r.one === "API" ? "an" : "a"} ${r.one}`, description: r.create.description, tag: r.tag,
      permission: "inventory:write", body: r.create.body, status: 201, response: r.create.response ?? written,
      run: ({ actor, body, client }) => r.create.run(actor, body, client),
    },
    {
      method: "PATCH", path: item, operationId: `update${Name}`, summary: `Update ${r.one === "API" ? "an" : "a"} ${r.one}`, description: r.update.description, tag: r.tag,
      permission: "inventory:write", body: r.update.body, status: 200, response: written,
      run: ({ actor, id, body, client }) => r.update.run(actor, id, body, client),
    },
    {
      method: "DELETE", path: item, operationId: `delete${Name}`, summary: r.remove.summary, description: r.remove.description, tag: r.tag, permission: "inventory:write",
      status: 200, response: written,
      run: ({ actor, id, client }) => r.remove.run(actor, id, client),
    },
  ];
}

/** Create/update through a use case returning { id, ... }, answered with the row read back. */
const then = (readBack: (id: string, client?: PrismaClient) => Promise<unknown>) => async (w: Promise<{ id: string; changeId?: string; enforcement?: EnforcementState; outboxRows?: number }>, client?: PrismaClient) => {
  const done = await w;
  return result(await readBack(done.id, client), done);
};

const principalBack = then((id, c) => read.readPrincipal(reader, id, c));
const credentialBack = (id: string, c?: PrismaClient) => read.readCredential(reader, id, c);
const grantBack = then((id, c) => read.readGrant(reader, id, c));
const apiBack = then((id, c) => read.readApi(reader, id, c));
const endpointBack = then((id, c) => read.readEndpoint(reader, id, c));
const scopeBack = then((id, c) => read.readScope(reader, id, c));

/** Hard deletes answer with the row as it was. */
const deleting = (readOne: (id: string, c?: PrismaClient) => Promise<unknown>, del: (a: Actor, id: string, c?: PrismaClient) => Promise<{ outboxRows: number }>) =>
  async (actor: Actor, id: string, c?: PrismaClient) => {
    const before = await readOne(id, c);
    return result(before, await del(actor, id, c));
  };

export const OPERATIONS: Operation[] = [
  ...resource({
    path: "/principals", one: "principal", tag: "Principals", out: principalOut, query: principalsQuery,
    list: read.listPrincipals, read: read.readPrincipal,
    create: { body: createPrincipalInput, run: (a, b, c) => principalBack(createPrincipal(a, b, c), c) },
    update: { body: updatePrincipalInput, description: "A status other than active stops the principal's keys and grants at every proxy (queued in the same transaction).", run: (a, id, b, c) => principalBack(updatePrincipal(a, id, b, c), c) },
    remove: { summary: "Deprovision a principal", description: "The row is kept for the audit trail; its keys and grants stop at every proxy.", run: (a, id, c) => principalBack(deprovisionPrincipal(a, id, c), c) },
  }),
  ...resource({
    path: "/credentials", one: "credential", tag: "Credentials", out: credentialOut, query: credentialsQuery,
    list: read.listCredentials, read: read.readCredential,
    create: {
      body: issueKeyInput,
      summary: "Issue an API key",
      description: "The key is in this response only; Tollgate stores its SHA-256 and display prefix. Also needs, for a person's principal, an admin.",
      response: writeResultOf(credentialOut).extend({ key: z.string().meta({ description: "The API key, shown once" }) }),
      run: async (a, b, c) => {
        const k = await issueKey(a, b, c);
        return { ...result(await credentialBack(k.credentialId, c), k), key: k.key };
      },
    },
    update: {
      body: changeKeyExpiryInput.omit({ credentialId: true }),
      description: "Changes when the key stops working; the proxies learn it through the outbox.",
      run: async (a, id, b, c) => {
        const r = await changeKeyExpiry(a, { ...(b as object), credentialId: id }, c);
        return result(await credentialBack(r.credentialId, c), r);
      },
    },
    remove: {
      summary: "Revoke an API key",
      description: "The key stops at every proxy (an access change delivered through the outbox); the row is kept, revoked.",
      run: async (a, id, c) => {
        const r = await revokeKey(a, { credentialId: id }, c);
        return result(await credentialBack(id, c), r);
      },
    },
  }),
  ...resource({
    path: "/grants", one: "grant", tag: "Grants", out: grantOut, query: grantsQuery,
    listDescription: "The same filters as the dashboard's grants table.",
    list: read.listGrantsPage, read: read.readGrant,
    create: { body: createGrantInput, description: "Reactivates a revoked or expired grant of the same scope. Delivered to the proxies of the scope's environment.", run: (a, b, c) => grantBack(createGrant(a, b, c), c) },
    update: { body: updateGrantInput, run: (a, id, b, c) => grantBack(updateGrant(a, id, b, c), c) },
    remove: { summary: "Revoke a grant", description: "The grant is revoked now and removed from every proxy of its environment; its open findings close.", run: (a, id, c) => grantBack(revokeGrantById(a, id, c), c) },
  }),
  ...resource({
    path: "/apis", one: "API", tag: "APIs", out: apiOut, query: apisQuery,
    list: read.listApisPage, read: read.readApi,
    create: { body: createApiInput, run: (a, b, c) => apiBack(createApi(a, b, c), c) },
    update: { body: updateApiInput, description: "A new name or upstream is sent to the proxies with the API's routes.", run: (a, id, b, c) => apiBack(updateApi(a, id, b, c), c) },
    remove: { summary: "Delete an API", description: "Only an API with no grants (active or past); its routes leave the proxies.", run: deleting((id, c) => read.readApi(reader, id, c), deleteApi) },
  }),
  ...resource({
    path: "/endpoints", one: "endpoint", tag: "Endpoints", out: endpointOut, query: endpointsQuery,
    list: read.listEndpoints, read: read.readEndpoint,
    create: { body: createEndpointInput, description: "The route reaches the proxies of the API's environment.", run: (a, b, c) => endpointBack(createEndpoint(a, b, c), c) },
    update: { body: updateEndpointInput, description: "requirements, when given, replace the endpoint's requirements whole.", run: (a, id, b, c) => endpointBack(updateEndpoint(a, id, b, c), c) },
    remove: { summary: "Delete an endpoint", description: "Its route leaves the proxies.", run: deleting((id, c) => read.readEndpoint(reader, id, c), deleteEndpoint) },
  }),
  ...resource({
    path: "/scopes", one: "scope", tag: "Scopes", out: scopeOut, query: scopesQuery,
    list: read.listScopes, read: read.readScope,
    create: { body: createScopeInput, run: (a, b, c) => scopeBack(createScope(a, b, c), c) },
    update: { body: updateScopeInput, description: "A level set here is kept by later imports.", run: (a, id, b, c) => scopeBack(updateScope(a, id, b, c), c) },
    remove: { summary: "Delete a scope", description: "Only a scope no endpoint requires and nobody was ever granted.", run: deleting((id, c) => read.readScope(reader, id, c), deleteScope) },
  }),
];
