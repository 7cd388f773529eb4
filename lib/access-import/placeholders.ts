import { badRequest } from "@/lib/errors";

// Environment placeholders in an import file: decK's `${{ env "DECK_X" }}` and
// a deploy script's `${VAR}` / `$VAR`. They are resolved only from the values
// the caller passes (the CLI reads the variables the user names with --env;
// the HTTP API passes none), never from the server's own environment. Anything
// left unresolved stops the import with every placeholder and where it is, so a
// literal "$SERVICE_KEY" never becomes somebody's API key.

const PATTERN = /\$\{\{\s*env\s+"([A-Za-z_][A-Za-z0-9_]*)"\s*\}\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

export interface Unresolved {
  pointer: string;
  name: string;
}

/** Returns a copy with every placeholder replaced, or throws a 400 listing the unresolved ones. */
export function resolvePlaceholders(value: unknown, vars: Record<string, string>, filename: string): unknown {
  const missing: Unresolved[] = [];
  const walk = (v: unknown, pointer: string): unknown => {
    if (typeof v === "string") {
      if (!v.includes("$")) return v;
      return v.replace(PATTERN, (whole, deck?: string, braced?: string, bare?: string) => {
        const name = (deck ?? braced ?? bare)!;
        if (Object.hasOwn(vars, name)) return vars[name];
        missing.push({ pointer, name });
        return whole;
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${pointer}/${i}`));
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, `${pointer}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
      return out;
    }
    return v;
  };
  const out = walk(value, "");
  if (missing.length > 0) {
    const list = missing.slice(0, 50).map((m) => `${m.name} at ${m.pointer}`).join(", ");
    const more = missing.length > 50 ? ` and ${missing.length - 50} more` : "";
    const names = [...new Set(missing.map((m) => m.name))].join(", ");
    throw badRequest(
      `${filename}: ${missing.length} unresolved environment placeholder(s): ${list}${more}. Name the variables to read (${names}) explicitly (CLI: --var ${missing[0].name}; over HTTP substitute them before uploading); nothing was imported`,
      "file",
    );
  }
  return out;
}
