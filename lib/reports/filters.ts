import { z } from "zod";
import type { PrismaClient } from "@/lib/db";
import { badRequest } from "@/lib/errors";
import type { FilterField } from "./types";

/**
 * Filter fields shared by the reports. Every schema is strict, so a misspelt
 * filter is a 400 naming it instead of being silently ignored (an auditor would
 * otherwise receive an unfiltered report believing it filtered).
 */

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A real calendar day (rejects 2026-02-30, which Date.parse would roll over),
 * from 1970 on: year 0000 parses in JavaScript but not in Postgres, which used
 * to fail the export mid-stream after its record was written.
 */
function realDay(s: string): boolean {
  const d = new Date(`${s}T00:00:00.000Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s && d.getUTCFullYear() >= 1970;
}

/** Optional day YYYY-MM-DD; an empty string (a blank form field) counts as absent. */
export const optionalDay = z
  .string()
  .trim()
  .optional()
  .transform((v) => v || undefined)
  .refine((v) => v === undefined || (DAY.test(v) && realDay(v)), "must be a date YYYY-MM-DD, 1970 or later");

/**
 * An instant: a day (meaning the end of that day, UTC — "as of 2026-09-30" includes
 * everything that happened on the 30th) or an ISO date-time with a zone. Not in the future.
 */
export const asOfInstant = z
  .string()
  .trim()
  .optional()
  .transform((v, ctx) => {
    if (!v) return new Date().toISOString();
    let t: number;
    if (DAY.test(v) && realDay(v)) t = Date.parse(`${v}T23:59:59.999Z`);
    else if (DATETIME.test(v) && realDay(v.slice(0, 10))) t = Date.parse(v);
    else t = Number.NaN;
    if (Number.isNaN(t)) {
      ctx.addIssue({ code: "custom", message: "must be a date YYYY-MM-DD or an ISO date-time with a time zone, 1970 or later" });
      return z.NEVER;
    }
    // A day's end may lie later today; only a day after today is refused.
    if (t > Date.now() + 86_400_000) {
      ctx.addIssue({ code: "custom", message: "must not be in the future" });
      return z.NEVER;
    }
    return new Date(Math.min(t, Date.now())).toISOString();
  });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * An optional name (environment, team) matched exactly. NUL reached Postgres as
 * a driver error (a 500) and no name holds control characters.
 */
export const optionalName = z
  .string()
  .trim()
  .max(200)
  .regex(/^\P{Cc}*$/u, "must not contain control characters") // \p{Cc}: C0 controls, DEL, C1 controls
  .refine((v) => !LONE_SURROGATE.test(v), "must be well-formed Unicode")
  .optional()
  .transform((v) => v || undefined);

/** [from, to) bounds for an inclusive day range; `to` before `from` is refused by the caller's refine. */
export function dayRange(from?: string, to?: string): { from: Date | null; to: Date | null } {
  return {
    from: from ? new Date(`${from}T00:00:00.000Z`) : null,
    to: to ? new Date(Date.parse(`${to}T00:00:00.000Z`) + 86_400_000) : null,
  };
}

export const fromBeforeTo = (f: { from?: string; to?: string }) => !f.from || !f.to || f.from <= f.to;

/**
 * A filter naming an environment or a team that does not exist is a 400, not an
 * empty (and recorded) export an auditor could mistake for "nothing to report".
 * Soft-deleted teams still count: past reports may name them.
 */
export async function refuseUnknownNames(client: PrismaClient, filters: Record<string, unknown>): Promise<void> {
  const { environment, team } = filters;
  if (typeof environment === "string" && !(await client.environment.findUnique({ where: { name: environment }, select: { id: true } }))) {
    throw badRequest(`environment: no environment named ${JSON.stringify(environment)}`, "environment");
  }
  if (typeof team === "string" && !(await client.team.findUnique({ where: { name: team }, select: { id: true } }))) {
    throw badRequest(`team: no team named ${JSON.stringify(team)}`, "team");
  }
}

/**
 * The filters of the reports over a period (revocations, access granted): an inclusive
 * day range and an environment, with their form fields, SQL values ($1 from, $2 to
 * exclusive, $3 environment) and the summary's "Period" line.
 */
export const periodFilters = z
  .object({ from: optionalDay, to: optionalDay, environment: optionalName })
  .strict()
  .refine(fromBeforeTo, { message: "must not be before from", path: ["to"] });
export type PeriodFilters = z.infer<typeof periodFilters>;

export const PERIOD_FIELDS: FilterField[] = [
  { name: "from", label: "From (UTC day)", kind: "day" },
  { name: "to", label: "To (UTC day, inclusive)", kind: "day" },
  { name: "environment", label: "Environment", kind: "environment" },
];

export function periodParams(f: PeriodFilters): unknown[] {
  const r = dayRange(f.from, f.to);
  return [r.from?.toISOString() ?? null, r.to?.toISOString() ?? null, f.environment ?? null];
}

export const periodTotal = (f: PeriodFilters): [string, string] => ["Period", `${f.from ?? "beginning"} to ${f.to ?? "today"}`];
