import { z } from "zod";

/**
 * URL state: every table's filters, sort and page live in the URL, parsed by
 * one zod schema per table through this module, shared by the server page (which
 * queries with it) and the client components (which link with it). One policy:
 * a value that does not parse falls back to its default (or to "no filter"), so
 * a stale or mangled link still opens a sane page; nothing here throws. A page
 * names what it ignored (`parse.ignored(params)`), so the user knows why.
 */
export type RawSearchParams = URLSearchParams | Record<string, string | string[] | undefined>;

/** A filter that is simply absent when missing or malformed. */
export const optionalParam = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

/**
 * Free text typed into a search or filter box: control characters and lone surrogates are dropped
 * (Postgres cannot take a NUL in a query parameter: a "?q=%00" link was an error page), then trimmed;
 * absent when nothing is left or it is longer than `max`.
 */
export const searchTextParam = (max: number) => optionalParam(z.string().transform(cleanText).pipe(z.string().min(1).max(max)));

function cleanText(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are stripped
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "")
    .trim();
}

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

export interface SearchParamsParser<T> {
  (params: RawSearchParams): T;
  /** The params given with a value that was not understood (and so fell back to the default), e.g. ["from"]. */
  ignored(params: RawSearchParams): string[];
}

/** The parser for one table's URL. Every field of `schema` must have a fallback (`.catch`). */
export function searchParamsParser<S extends z.ZodObject>(schema: S): SearchParamsParser<z.output<S>> {
  const parse = (params: RawSearchParams) => schema.parse(flatSearchParams(params));
  const defaults: Record<string, unknown> = schema.parse({});
  const ignored = (params: RawSearchParams) => {
    const given = flatSearchParams(params);
    const parsed: Record<string, unknown> = parse(given);
    return Object.keys(given).filter((k) => k in schema.shape && parsed[k] === defaults[k] && String(defaults[k] ?? "") !== given[k]);
  };
  return Object.assign(parse, { ignored });
}

/** The canonical query string for a view ("" or "?a=1&b=2"): values equal to their default are left out, so links stay short. */
export function toSearchString(values: Record<string, string | number | undefined>, defaults: Record<string, string | number | undefined> = {}): string {
  const sp = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== "" && value !== defaults[key]) sp.set(key, String(value));
  const s = sp.toString();
  return s ? `?${s}` : "";
}
