import type { z } from "zod";

/**
 * URL state: every table's filters, sort and page live in the URL, parsed by
 * one zod schema per table through this module, shared by the server page (which
 * queries with it) and the client components (which link with it). One policy:
 * a value that does not parse falls back to its default (or to "no filter"), so
 * a stale or mangled link still opens a sane page; nothing here throws.
 */
export type RawSearchParams = URLSearchParams | Record<string, string | string[] | undefined>;

/** A filter that is simply absent when missing or malformed. */
export const optionalParam = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

/** The first value of each key; an empty value (a cleared <select>) means "absent", not "invalid". */
export function flatSearchParams(params: RawSearchParams): Record<string, string> {
  const flat: Record<string, string> = {};
  const entries = params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params);
  for (const [key, value] of entries) {
    const v = Array.isArray(value) ? value[0] : value;
    if (v !== undefined && v !== "" && !(key in flat)) flat[key] = v;
  }
  return flat;
}

/** The parser for one table's URL. Every field of `schema` must have a fallback (`.catch`). */
export function searchParamsParser<S extends z.ZodType>(schema: S): (params: RawSearchParams) => z.output<S> {
  return (params) => schema.parse(flatSearchParams(params));
}

/** The canonical query string for a view ("" or "?a=1&b=2"): values equal to their default are left out, so links stay short. */
export function toSearchString(values: Record<string, string | number | undefined>, defaults: Record<string, string | number | undefined> = {}): string {
  const sp = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== "" && value !== defaults[key]) sp.set(key, String(value));
  const s = sp.toString();
  return s ? `?${s}` : "";
}
