// Formatting shared by server and client components. Dates are shown absolute, in UTC (day() or stamp());
// the relative form (ago()) is only their tooltip (components/when.tsx). Relative times take an explicit
// `now` (rendered by the server) so server and client output match.
const DAY = 86_400_000;

export function ago(date: Date | string | null | undefined, now: number, never = "never"): string {
  if (!date) return never;
  const ms = now - new Date(date).getTime();
  if (ms < 0) return `in ${span(-ms)}`;
  if (ms < 60_000) return "just now";
  return `${span(ms)} ago`;
}

function span(ms: number): string {
  const days = Math.floor(ms / DAY);
  if (days >= 730) return `${Math.floor(days / 365)} years`;
  if (days >= 60) return `${Math.floor(days / 30)} months`;
  if (days >= 1) return `${days} day${days === 1 ? "" : "s"}`;
  const hours = Math.floor(ms / 3_600_000);
  if (hours >= 1) return `${hours} hour${hours === 1 ? "" : "s"}`;
  return `${Math.max(1, Math.floor(ms / 60_000))} min`;
}

/** YYYY-MM-DD in UTC: unambiguous for a security audience. */
export function day(date: Date | string | null | undefined, empty = "—"): string {
  return date ? new Date(date).toISOString().slice(0, 10) : empty;
}

/** YYYY-MM-DD HH:MM UTC: a moment, absolute, the way every page shows one (components/when.tsx). */
export function stamp(date: Date | string | null | undefined, empty = "—"): string {
  return date ? `${new Date(date).toISOString().replace("T", " ").slice(0, 16)} UTC` : empty;
}

export const number = (n: number) => n.toLocaleString("en-US");

/** An enum value as words: "over_privileged" → "over privileged" (every underscore, not only the first). */
export const words = (value: string) => value.replaceAll("_", " ");
