import { randomUUID } from "node:crypto";
import type { Actor } from "@/lib/auth/actor";
import { authenticateServiceToken } from "@/lib/auth/service-tokens";
import { db, type PrismaClient } from "@/lib/db";
import { SCIM_CONTENT_TYPE } from "./constants";
import { discoveryResource, serviceProviderConfig } from "./discovery";
import { invalidSyntax, ScimError, toScimError } from "./errors";
import { assertStorable } from "./input";
import { createGroup, deleteGroup, getGroup, listGroups, patchGroup, replaceGroup } from "./groups";
import { createUser, deleteUser, getUser, listUsers, patchUser, replaceUser } from "./users";

/**
 * The whole SCIM 2.0 surface as one Request → Response function. The Next
 * route handlers under app/scim/v2 only forward to it, so tests can drive it
 * with real Request objects exactly as Okta and Entra send them.
 */
const MAX_BODY = 1024 * 1024;

/** A malformed escape ("%E0%A4%A") names no resource: 404, not a URIError. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ScimError(404, "No such SCIM resource (malformed percent-encoding in the path)");
  }
}

export interface ScimOptions {
  client?: PrismaClient;
  /** Resolves the caller; defaults to the bearer service token. */
  authenticate?: (authorization: string | null) => Promise<Actor>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === null ? null : JSON.stringify(body), { status, headers: { "content-type": SCIM_CONTENT_TYPE, ...headers } });

export async function handleScim(req: Request, opts: ScimOptions = {}): Promise<Response> {
  try {
    const client = opts.client ?? db();
    const authenticate = opts.authenticate ?? ((h) => authenticateServiceToken(h, client));
    const url = new URL(req.url);
    const at = url.pathname.indexOf("/scim/v2");
    const base = `${url.origin}${at >= 0 ? url.pathname.slice(0, at) : ""}/scim/v2`;
    const segments = (at >= 0 ? url.pathname.slice(at + "/scim/v2".length) : url.pathname).split("/").filter(Boolean).map(decodeSegment);
    const actor = await authenticate(req.headers.get("authorization"));
    const method = req.method.toUpperCase();
    const [resource, id, extra] = segments;
    if (extra !== undefined) throw new ScimError(404, `No such SCIM endpoint ${url.pathname}`);
    const q = url.searchParams;

    const body = async () => {
      // RFC 7644 §3.1/§8.1: SCIM bodies are application/scim+json (plain application/json is
      // accepted too). Anything else is refused before reading, not parsed as JSON by luck.
      const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (type !== SCIM_CONTENT_TYPE && type !== "application/json") {
        throw new ScimError(415, `Content-Type ${type ? `"${type}"` : "(none)"} is not supported: send ${SCIM_CONTENT_TYPE} or application/json`);
      }
      const text = await req.text();
      if (text.length > MAX_BODY) throw new ScimError(413, `body is over ${MAX_BODY} bytes`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        throw invalidSyntax("body is not valid JSON");
      }
      assertStorable(parsed);
      return parsed;
    };
    const ensureScim = () => {
      // Discovery endpoints are readable with any valid token.
      if (actor.kind === "service" && !actor.scopes.includes("scim")) throw new ScimError(403, "the token lacks the scim scope");
    };

    switch (resource) {
      case "ServiceProviderConfig":
        if (method !== "GET") break;
        ensureScim();
        return json(200, serviceProviderConfig(base));
      case "ResourceTypes":
      case "Schemas":
        if (method !== "GET") break;
        ensureScim();
        return json(200, discoveryResource(base, resource, id));
      case "Users":
        if (!id) {
          if (method === "GET") return json(200, await listUsers(actor, { filter: q.get("filter"), startIndex: q.get("startIndex"), count: q.get("count") }, base, client));
          if (method === "POST") {
            const user = await createUser(actor, await body(), base, client);
            return json(201, user, { location: String((user.meta as { location: string }).location) });
          }
          break;
        }
        if (method === "GET") return json(200, await getUser(actor, id, base, client));
        if (method === "PUT") return json(200, await replaceUser(actor, id, await body(), base, client));
        if (method === "PATCH") return json(200, await patchUser(actor, id, await body(), base, client));
        if (method === "DELETE") {
          await deleteUser(actor, id, client);
          return new Response(null, { status: 204 });
        }
        break;
      case "Groups":
        if (!id) {
          if (method === "GET") {
            return json(200, await listGroups(actor, { filter: q.get("filter"), startIndex: q.get("startIndex"), count: q.get("count"), excludedAttributes: q.get("excludedAttributes") }, base, client));
          }
          if (method === "POST") {
            const group = await createGroup(actor, await body(), base, client);
            return json(201, group, { location: String((group.meta as { location: string }).location) });
          }
          break;
        }
        if (method === "GET") return json(200, await getGroup(actor, id, base, q.get("excludedAttributes"), client));
        if (method === "PUT") return json(200, await replaceGroup(actor, id, await body(), base, client));
        if (method === "PATCH") return json(200, await patchGroup(actor, id, await body(), base, client));
        if (method === "DELETE") {
          await deleteGroup(actor, id, client);
          return new Response(null, { status: 204 });
        }
        break;
      default:
        throw new ScimError(404, `No such SCIM endpoint ${url.pathname}`);
    }
    throw new ScimError(405, `${method} is not supported on ${url.pathname}`);
  } catch (e) {
    const scim = toScimError(e);
    if (scim) {
      const headers: Record<string, string> = scim.status === 401 ? { "www-authenticate": 'Bearer realm="tollgate-scim"' } : {};
      return json(scim.status, scim.body(), headers);
    }
    const logId = randomUUID();
    console.error(`[scim] ${logId}`, e);
    return json(500, new ScimError(500, `internal error (log id ${logId})`).body());
  }
}
