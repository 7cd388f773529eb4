import { z } from "zod";
import { DEFAULT_MAX_BYTES } from "./openapi/parse";

// The upload limit is read from the environment once; a bad value fails loudly
// naming the variable rather than silently falling back.
let cached: number | undefined;

export function openApiMaxBytes(): number {
  if (cached !== undefined) return cached;
  const parsed = z.coerce.number().int().min(1024).max(200 * 1024 * 1024).optional().safeParse(process.env.TOLLGATE_OPENAPI_MAX_BYTES || undefined);
  if (!parsed.success) throw new Error(`Invalid configuration: TOLLGATE_OPENAPI_MAX_BYTES: ${parsed.error.issues[0]?.message}`);
  cached = parsed.data ?? DEFAULT_MAX_BYTES;
  return cached;
}
