import { invalidValue } from "./errors";

// Postgres text and jsonb cannot hold U+0000, and a lone UTF-16 surrogate has
// no UTF-8 form: either one reaching the database is a driver error (a 500).
// SCIM bodies are checked once, keys and values, before anything is parsed.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function unstorableText(s: string): string | null {
  if (s.includes("\u0000")) return "contains a NUL character";
  if (LONE_SURROGATE.test(s)) return "contains an unpaired UTF-16 surrogate";
  return null;
}

/** Throws invalidValue naming the first string (or key) Postgres could not store. */
export function assertStorable(value: unknown, path = "body", depth = 0): void {
  if (depth > 32) throw invalidValue(`${path}: nested more than 32 levels deep`);
  if (typeof value === "string") {
    const problem = unstorableText(value);
    if (problem) throw invalidValue(`${path}: ${problem}`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertStorable(v, `${path}.${i}`, depth + 1));
    return;
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const problem = unstorableText(k);
      if (problem) throw invalidValue(`${path}: an attribute name ${problem}`);
      assertStorable(v, `${path}.${k}`, depth + 1);
    }
  }
}
