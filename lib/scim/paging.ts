import { MAX_PAGE } from "./constants";
import { invalidValue } from "./errors";

export interface Page {
  startIndex: number;
  count: number;
}

/** RFC 7644 §3.4.2.4: startIndex is 1-based (values < 1 mean 1); count < 0 means 0; we cap count at MAX_PAGE. */
export function pageOf(startIndex?: string | null, count?: string | null): Page {
  const s = startIndex == null || startIndex === "" ? 1 : Number(startIndex);
  const c = count == null || count === "" ? 100 : Number(count);
  if (!Number.isInteger(s)) throw invalidValue("startIndex must be an integer");
  if (!Number.isInteger(c)) throw invalidValue("count must be an integer");
  return { startIndex: Math.max(1, s), count: Math.min(MAX_PAGE, Math.max(0, c)) };
}
