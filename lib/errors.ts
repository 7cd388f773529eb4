// Typed application errors. Route handlers and server actions map these to
// HTTP statuses / form messages; anything else is logged with an id and shown
// as a generic message (never a stack trace).
export type ErrorCode = "bad_request" | "unauthenticated" | "forbidden" | "not_found" | "conflict" | "too_many_requests" | "busy";

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_many_requests: 429,
  // Contention that outlasted our retries (lib/db/retry.ts): nothing was written, the same request may simply be sent again.
  busy: 503,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "AppError";
    this.status = STATUS[code];
  }
}

/** One problem with a request, located by a JSON pointer into it (e.g. "/body/expiresAt", "/query/limit"). */
export interface InputIssue {
  pointer: string;
  message: string;
}

/** A 400 listing every problem zod found, each with its JSON pointer; the message names the first. */
export class ValidationError extends AppError {
  constructor(
    readonly issues: InputIssue[],
    field?: string,
  ) {
    super("bad_request", issues.map((i) => `${i.pointer}: ${i.message}`).join("; ").slice(0, 2000), field);
  }
}

/** A zod error under a part of the request ("body", "query") as a ValidationError. */
export function fromZodAt(part: string, error: { issues: { path: PropertyKey[]; message: string }[] }): ValidationError {
  const escape = (k: PropertyKey) => String(k).replace(/~/g, "~0").replace(/\//g, "~1");
  const issues = error.issues.map((i) => ({ pointer: `/${[part, ...i.path.map(escape)].join("/")}`, message: i.message }));
  return new ValidationError(issues, error.issues[0]?.path.map(String).join(".") || undefined);
}

export const badRequest = (message: string, field?: string) => new AppError("bad_request", message, field);
export const forbidden = (message = "You are not allowed to do this") => new AppError("forbidden", message);
export const notFound = (what: string) => new AppError("not_found", `${what} not found`);
export const conflict = (message: string) => new AppError("conflict", message);

/** A zod error as a 400 naming the first offending field. */
export function fromZod(error: { issues: { path: PropertyKey[]; message: string }[] }): AppError {
  const first = error.issues[0];
  const field = first?.path.map(String).join(".") || undefined;
  return badRequest(field ? `${field}: ${first.message}` : (first?.message ?? "invalid input"), field);
}
