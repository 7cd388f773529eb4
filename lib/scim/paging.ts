import { MAX_PAGE } from "./constants";
import { invalidValue } from "./errors";

export interface Page {
  startIndex: number;
  count: number;
}

/** The largest startIndex we read: beyond it Postgres's OFFSET (and Prisma's skip) would overflow. */
const MAX_INDEX = 2_147_483_647;

/** A decimal integer parameter ("5", "-1"), or a 400 naming it: "1e3", "0x10" or 99999999999999999999 are not. */
function integer(name: string, raw: string): number {
  if (!/^[+-]?\d{1,30}$/.test(raw.trim())) throw invalidValue(`${name} must be an integer`);
  return Number(raw);
}

/** RFC 7644 §3.4.2.4: startIndex is 1-based (values < 1 mean 1); count < 0 means 0; we cap count (however large) at MAX_PAGE. */
export function pageOf(startIndex?: string | null, count?: string | null): Page {
  const s = startIndex == null || startIndex === "" ? 1 : integer("startIndex", startIndex);
  if (s > MAX_INDEX) throw invalidValue(`startIndex must be at most ${MAX_INDEX}`);
  const c = count == null || count === "" ? 100 : integer("count", count);
  return { startIndex: Math.max(1, s), count: Math.min(MAX_PAGE, Math.max(0, c)) };
}
