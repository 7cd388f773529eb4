import { z } from "zod";
import { openApiLimitSchemas } from "@/lib/config/env";
import { YAML_DEFAULT_LIMITS } from "@/lib/validation/yaml";
import { DEFAULT_MAX_BYTES } from "./openapi/parse";

// The import limits are read from the environment once; a bad value fails
// loudly naming the variable rather than silently falling back. (They are in
// lib/config/env.ts's schema too, so `npm start` refuses them up front.)
const cache = new Map<string, number>();

function limit(name: string, schema: z.ZodType<number | undefined>, fallback: number): number {
  const known = cache.get(name);
  if (known !== undefined) return known;
  const parsed = schema.safeParse(process.env[name] || undefined);
  if (!parsed.success) throw new Error(`Invalid configuration: ${name}: ${parsed.error.issues[0]?.message}`);
  const value = parsed.data ?? fallback;
  cache.set(name, value);
  return value;
}

export const openApiMaxBytes = () => limit("TOLLGATE_OPENAPI_MAX_BYTES", openApiLimitSchemas.TOLLGATE_OPENAPI_MAX_BYTES, DEFAULT_MAX_BYTES);
export const openApiMaxNodes = () => limit("TOLLGATE_OPENAPI_MAX_NODES", openApiLimitSchemas.TOLLGATE_OPENAPI_MAX_NODES, YAML_DEFAULT_LIMITS.maxNodes);
export const openApiMaxSeconds = () => limit("TOLLGATE_OPENAPI_MAX_SECONDS", openApiLimitSchemas.TOLLGATE_OPENAPI_MAX_SECONDS, 60);
