import { AppError, badRequest } from "@/lib/errors";
import { parseYamlSafely } from "@/lib/validation/yaml";

// The one place an uploaded YAML or JSON import file is turned into a value:
// the shared alias-safe parser (lib/validation/yaml.ts: cycles refused with the
// line of the alias, alias count / expanded size / depth capped, duplicate map
// keys an error), its 400 prefixed with the file name and reported on "file".
//
// Limits: a Kong file without aliases has fewer nodes than twice its length, so
// an expansion beyond that (with a floor for tiny files) is an alias bomb, not
// configuration. Messages carry the position and the parser's reason only (its
// first line; no source excerpt): the line could hold a plaintext API key.

const MAX_ALIASES = 100;

export function parseYamlOrJson(text: string, filename: string): unknown {
  try {
    return parseYamlSafely(text, { field: "file", maxAliases: MAX_ALIASES, maxNodes: Math.max(10_000, text.length * 2) });
  } catch (e) {
    if (e instanceof AppError) throw badRequest(`${filename}: ${e.message}`, "file");
    throw badRequest(`${filename}: invalid YAML/JSON`, "file");
  }
}
