import { z } from "zod";
import { PERMISSIONS } from "@/lib/auth/actor";
import { OPERATIONS, type Operation } from "./operations";
import { errorOut } from "./schemas";

/**
 * The inventory API's OpenAPI 3.1 description, generated from the operation table
 * and its zod schemas (zod 4's JSON Schema output, draft 2020-12, which OpenAPI 3.1
 * uses as is). Nothing here is written by hand but prose: a route's validation and
 * its documentation are the same schema.
 */
type Json = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  400: "Invalid input: every problem with its JSON pointer (error.issues)",
  401: "No valid session or service token",
  403: "The role or token scope does not allow this",
  404: "No such row",
  409: "Conflicts with the current state (already revoked, name taken, still in use)",
};

/** zod → JSON Schema; named schemas (meta id) are collected as components and referenced. */
function toSchema(schema: z.ZodType, io: "input" | "output", components: Json): Json {
  const js = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: (ctx) => {
      // z.coerce.date() takes an RFC 3339 string on the wire.
      if ((ctx.zodSchema as unknown as { _zod: { def: { type: string } } })._zod.def.type === "date") {
        ctx.jsonSchema.type = "string";
        ctx.jsonSchema.format = "date-time";
      }
    },
  }) as Json;
  delete js.$schema;
  const defs = (js.$defs ?? {}) as Json;
  delete js.$defs;
  for (const [name, def] of Object.entries(defs)) components[name] = def;
  return rewriteRefs(js) as Json;
}

function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, k === "$ref" && typeof x === "string" ? x.replace(/^#\/\$defs\//, "#/components/schemas/") : rewriteRefs(x)]),
    );
  }
  return v;
}

function parameters(op: Operation, components: Json): Json[] {
  const out: Json[] = [];
  if (op.path.endsWith("{id}")) out.push({ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } });
  if (op.query) {
    const js = toSchema(op.query, "input", components);
    const required = new Set((js.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries((js.properties ?? {}) as Record<string, Json>)) {
      const { description, ...rest } = schema;
      out.push({ name, in: "query", required: required.has(name), ...(description ? { description } : {}), schema: rest });
    }
  }
  return out;
}

function operation(op: Operation, components: Json): Json {
  const errors = [400, 401, 403, ...(op.path.endsWith("{id}") ? [404] : []), ...(op.method === "GET" ? [] : [409])];
  const who = PERMISSIONS[op.permission as keyof typeof PERMISSIONS].join(", ");
  return {
    operationId: op.operationId,
    summary: op.summary,
    description: [op.description, `Needs \`${op.permission}\`: a service token with that scope, or a session with a role holding it (${who}).`].filter(Boolean).join("\n\n"),
    tags: [op.tag],
    // OR of the two ways in; the token's scope is listed as OpenAPI 3.1 allows for any scheme.
    security: [{ serviceToken: [op.permission] }, { session: [] }],
    parameters: parameters(op, components),
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: toSchema(op.body, "input", components) } } } } : {}),
    responses: {
      [String(op.status)]: { description: op.status === 201 ? "Created" : "OK", content: { "application/json": { schema: toSchema(op.response, "output", components) } } },
      ...Object.fromEntries(errors.map((s) => [String(s), { $ref: `#/components/responses/E${s}` }])),
    },
  };
}

export function inventoryOpenApi(serverUrl = "/api/v1"): Json {
  const components: Json = {};
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) {
    paths[op.path] ??= {};
    paths[op.path][op.method.toLowerCase()] = operation(op, components);
  }
  const error = toSchema(errorOut, "output", components);
  components.Error ??= error;
  return {
    openapi: "3.1.0",
    info: {
      title: "Tollgate inventory API",
      version: "1",
      description:
        "Principals, credentials, grants, APIs, endpoints and scopes: list (cursor pagination), read, create, update, revoke or delete. " +
        "Every write goes through the same use case as the dashboard: authorised, audited in the same transaction, and delivered to the enforcement proxies through the outbox where enforcement changes.",
    },
    servers: [{ url: serverUrl }],
    tags: [...new Set(OPERATIONS.map((o) => o.tag))].map((name) => ({ name })),
    security: [{ serviceToken: [] }, { session: [] }],
    paths,
    components: {
      schemas: components,
      responses: Object.fromEntries(
        Object.entries(STATUS_TEXT).map(([s, description]) => [`E${s}`, { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } }]),
      ),
      securitySchemes: {
        serviceToken: { type: "http", scheme: "bearer", description: "A service token (tgs_…) created by an admin under Settings → Service tokens, with scope inventory:read and/or inventory:write." },
        session: { type: "apiKey", in: "cookie", name: "next-auth.session-token", description: "The dashboard's session (roles as in the permission matrix, docs/SECURITY.md)." },
      },
    },
  };
}
