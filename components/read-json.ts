import type { ActionResult } from "@/lib/action";
import type { ErrorBody } from "@/lib/auth/http";

/** A value after a JSON round trip: dates arrive as ISO strings. */
export type Json<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

/**
 * GET one of the dashboard's read endpoints (app/api/ui/*) from a client
 * component. `T` is the lib function's own return type; failures arrive in
 * the same shape as a server action's.
 */
export async function readJson<T>(url: string): Promise<ActionResult<Json<T>>> {
  try {
    const res = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
    const body: unknown = await res.json();
    if (res.ok) return { ok: true, data: body as Json<T> };
    const failure = (body as Partial<ErrorBody> | null)?.error;
    if (failure && typeof failure.message === "string") return { ok: false, error: failure };
    return { ok: false, error: { code: "internal", message: `The server answered ${res.status}` } };
  } catch {
    return { ok: false, error: { code: "internal", message: "Could not reach the server" } };
  }
}
