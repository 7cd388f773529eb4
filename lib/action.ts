import { unstable_rethrow } from "next/navigation";
import type { z } from "zod";
import { errorBody, type ErrorInfo } from "@/lib/auth/http";
import { currentActor, type UserActor } from "@/lib/auth/session";
import { fromZod } from "@/lib/errors";

/**
 * The one contract every server action follows (see docs/ARCHITECTURE.md,
 * "Server actions"):
 *
 *   session → zod input → one lib/ call → ActionResult
 *
 * - The session user is loaded first; without one the result is
 *   `{ ok: false, error: { code: "unauthenticated" } }`.
 * - The input is parsed with the action's zod schema (usually the lib
 *   function's own), so a bad field comes back as `bad_request` naming it,
 *   and the client sees the schema's input type.
 * - An AppError (lib/errors.ts) becomes `{ ok: false, error: { code, message, field } }`.
 * - Anything else is logged with an id and answered with a generic message
 *   carrying that id: never a stack trace.
 * - Next's own control-flow signals (redirect(), notFound(), dynamic
 *   bail-outs) are re-thrown so they keep working inside an action.
 *
 * Reads do not belong here: pages load data in server components, and what a
 * client component polls comes from a GET route handler (lib/auth/http.ts).
 */
export type ActionError = ErrorInfo;
export type ActionResult<T> = { ok: true; data: T } | { ok: false; error: ActionError };
/** What a `useActionState` form holds: nothing before the first submit. */
export type FormState<T> = ActionResult<T> | null;

export interface ActionContext {
  actor: UserActor;
}

type LoadActor = () => Promise<UserActor>;
/** An action whose schema accepts `undefined` may be called with no argument. */
type ActionArgs<S extends z.ZodType> = undefined extends z.input<S> ? [input?: z.input<S>] : [input: z.input<S>];

/** Runs `fn` and folds its outcome into an ActionResult (Next's signals re-thrown). */
export async function settle<T>(fn: () => Promise<T>): Promise<ActionResult<T>> {
  try {
    return { ok: true, data: await fn() };
  } catch (e) {
    unstable_rethrow(e);
    return { ok: false, error: errorBody(e).body.error };
  }
}

async function parse<S extends z.ZodType>(schema: S, raw: unknown): Promise<z.output<S>> {
  const parsed = await schema.safeParseAsync(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

/**
 * Builds the action helpers around a way to load the signed-in user. The app
 * uses the session (`action`/`formAction` below); tests pass their own user.
 */
export function actionClient(loadActor: LoadActor) {
  /** An action called from client code with one (typed) argument. */
  function action<S extends z.ZodType, T>(schema: S, fn: (input: z.output<S>, ctx: ActionContext) => Promise<T>) {
    return async (...[raw]: ActionArgs<S>): Promise<ActionResult<T>> =>
      settle(async () => {
        const actor = await loadActor();
        return fn(await parse(schema, raw), { actor });
      });
  }

  /**
   * An action for `<form action>` through `useActionState`: `fromForm` turns
   * the FormData into the schema's input (see `formFields`). Works before
   * hydration too (React posts the form and renders the returned state).
   */
  function formAction<S extends z.ZodType, T>(schema: S, fromForm: (form: FormData) => unknown, fn: (input: z.output<S>, ctx: ActionContext) => Promise<T>) {
    return async (_prev: FormState<T>, form: FormData): Promise<FormState<T>> =>
      settle(async () => {
        const actor = await loadActor();
        return fn(await parse(schema, fromForm(form)), { actor });
      });
  }

  return { action, formAction };
}

export const { action, formAction } = actionClient(currentActor);

/**
 * FormData as a plain object for a schema: each field once as a string (an
 * empty field is left out, so optional fields stay optional), except the
 * `lists` fields, which are always arrays (multi-selects, checkbox groups).
 */
export function formFields(form: FormData, lists: readonly string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of lists) out[key] = form.getAll(key).map(String).filter((v) => v !== "");
  for (const [key, value] of form.entries()) {
    if (lists.includes(key) || key.startsWith("$ACTION") || typeof value !== "string" || value === "") continue;
    out[key] = value;
  }
  return out;
}
