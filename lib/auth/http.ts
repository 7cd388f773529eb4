import { randomUUID } from "node:crypto";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "@/lib/db/unavailable";
import { AppError, ValidationError, type ErrorCode, type InputIssue } from "@/lib/errors";

/**
 * Thin wrappers for route handlers (server actions: lib/action.ts): map AppError to its
 * status and a JSON body naming the field; log anything else with an id and
 * answer a generic message (never a stack trace).
 */
/**
 * What a caller learns about a failure: the AppError's code, "unavailable"
 * when the database cannot be reached (lib/db/unavailable.ts), or "internal"
 * with a log id.
 */
export interface ErrorInfo {
  code: ErrorCode | "unavailable" | "internal";
  message: string;
  field?: string;
  /** Every problem with the input, each with a JSON pointer (ValidationError). */
  issues?: InputIssue[];
  logId?: string;
}
export interface ErrorBody {
  error: ErrorInfo;
}

export function errorBody(e: unknown): { status: number; body: ErrorBody } {
  if (e instanceof AppError) {
    const issues = e instanceof ValidationError ? { issues: e.issues } : {};
    return { status: e.status, body: { error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}), ...issues } } };
  }
  const logId = randomUUID();
  if (isDatabaseUnavailable(e)) {
    console.error(`[${logId}] database unavailable`, (e as Error).message);
    return { status: 503, body: { error: { code: "unavailable", message: `${DATABASE_UNAVAILABLE_MESSAGE} (log id ${logId})`, logId } } };
  }
  console.error(`[${logId}] unhandled error`, e);
  return { status: 500, body: { error: { code: "internal", message: `Something went wrong (log id ${logId})`, logId } } };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * CSRF for route handlers that mutate on a session cookie: a browser always
 * sends Origin on a cross-origin POST/PUT/PATCH/DELETE, so when Origin is
 * present its host must equal the Host we were reached on (the same check
 * Next applies to server actions). Requests without Origin are not from a
 * browser form/fetch (e.g. a service token client) and carry no ambient cookie risk
 * unless Sec-Fetch-Site says cross-site.
 */
export function assertSameOrigin(req: Request): void {
  if (SAFE_METHODS.has(req.method.toUpperCase())) return;
  const origin = req.headers.get("origin");
  const host = req.headers.get("x-forwarded-host")?.split(",")[0].trim() || req.headers.get("host");
  if (origin) {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw new AppError("forbidden", "Cross-origin request refused (malformed Origin)");
    }
    if (!host || originHost.toLowerCase() !== host.toLowerCase()) {
      throw new AppError("forbidden", "Cross-origin request refused");
    }
    return;
  }
  if (req.headers.get("sec-fetch-site") === "cross-site") throw new AppError("forbidden", "Cross-origin request refused");
}

type Handler<C> = (req: Request, ctx: C) => Promise<Response | unknown>;

/**
 * Route handler wrapper: CSRF origin check on mutating methods, then the
 * handler; a plain value becomes a 200 JSON response.
 */
export function routeHandler<C = unknown>(fn: Handler<C>): (req: Request, ctx: C) => Promise<Response> {
  return async (req, ctx) => {
    try {
      assertSameOrigin(req);
      const out = await fn(req, ctx);
      return out instanceof Response ? out : Response.json(out ?? null);
    } catch (e) {
      const { status, body } = errorBody(e);
      // 503 "busy" (lib/db/retry.ts) means nothing was written: say when to send it again.
      return Response.json(body, { status, headers: status === 503 ? { "retry-after": "2" } : undefined });
    }
  };
}
