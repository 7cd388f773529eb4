import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { routeHandler } from "@/lib/auth/http";
import { requestActor } from "@/lib/auth/session";
import type { PrismaClient } from "@/lib/db";
import { AppError, fromZodAt, notFound } from "@/lib/errors";
import { readJsonBody } from "@/lib/validation/json-body";
import { OPERATIONS, type Operation } from "./operations";

/**
 * Runs one inventory API operation for an authenticated actor: permission first
 * (a caller without it learns nothing about its input), then the path id (a
 * malformed one is simply not found), the query and the body, each validated with
 * the operation's schema, every problem reported with its JSON pointer.
 */
export async function runOperation(op: Operation, actor: Actor, req: Request, rawId: string | undefined, client?: PrismaClient): Promise<Response> {
  authorize(actor, op.permission);
  const id = rawId ?? "";
  if (op.path.endsWith("{id}") && !z.uuid().safeParse(id).success) throw notFound(op.tag.replace(/s$/, ""));
  let query: unknown = undefined;
  const params = new URL(req.url).searchParams;
  if (op.query) {
    const flat: Record<string, string> = {};
    for (const [k, v] of params) {
      if (k in flat) throw new AppError("bad_request", `/query/${k}: given more than once`, k);
      flat[k] = v;
    }
    const parsed = op.query.safeParse(flat);
    if (!parsed.success) throw fromZodAt("query", parsed.error);
    query = parsed.data;
  } else if ([...params.keys()].length > 0) {
    throw new AppError("bad_request", `/query/${[...params.keys()][0]}: this operation takes no query parameters`, [...params.keys()][0]);
  }
  let body: unknown = undefined;
  if (op.body) {
    const parsed = op.body.safeParse(await readJsonBody(req));
    if (!parsed.success) throw fromZodAt("body", parsed.error);
    // The use case parses it again (it is the one way in for every caller, the dashboard too).
    body = parsed.data;
  }
  const out = await op.run({ actor, id, query, body, client });
  return Response.json(out, { status: op.status, headers: { "cache-control": "no-store" } });
}

type Ctx = { params: Promise<{ id?: string }> };

/** The Next route handlers for one path of the table ("/grants" or "/grants/{id}"), one per method it has. */
export function inventoryRoutes(path: string): Partial<Record<Operation["method"], (req: Request, ctx: Ctx) => Promise<Response>>> {
  const handlers: Partial<Record<Operation["method"], (req: Request, ctx: Ctx) => Promise<Response>>> = {};
  for (const op of OPERATIONS.filter((o) => o.path === path)) {
    handlers[op.method] = routeHandler<Ctx>(async (req, ctx) => runOperation(op, await requestActor(req), req, (await ctx.params)?.id));
  }
  return handlers;
}
