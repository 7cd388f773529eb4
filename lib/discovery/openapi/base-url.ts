import { z } from "zod";

/**
 * An API's upstream as a caller may give it: an absolute http(s) URL without
 * query or fragment. `file:`, `javascript:`, `data:` … would be stored and shown
 * as links, and the proxy can only forward to http(s) anyway.
 */
export const upstreamUrl = z
  .string()
  .trim()
  .max(2000)
  .refine((u) => {
    try {
      return /^https?:$/.test(new URL(u).protocol);
    } catch {
      return false;
    }
  }, "must be an absolute http:// or https:// URL")
  .refine((u) => !/[?#]/.test(u), "must not have a query or fragment");
