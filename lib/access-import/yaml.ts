import { parse, YAMLParseError } from "yaml";
import { badRequest } from "@/lib/errors";

// The one place an uploaded YAML or JSON import file is turned into a value.
// (When lib/validation/yaml.ts's shared alias-safe parser lands, this becomes a
// call to it: same contract — a plain value or a 400 naming file and line.)
//
// - Aliases are capped (an alias bomb expands a few hundred bytes into
//   gigabytes) and a self-referencing alias (`&a [*a]`) is refused: the
//   importer walks the value and must not loop.
// - Duplicate map keys are an error (yaml's default), not "last one wins".
// - Error messages carry the position and the parser's reason only, never the
//   source excerpt the parser adds: the line could hold a plaintext API key.

const MAX_ALIASES = 100;

export function parseYamlOrJson(text: string, filename: string): unknown {
  let value: unknown;
  try {
    value = parse(text, { maxAliasCount: MAX_ALIASES, prettyErrors: true, uniqueKeys: true, merge: false });
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const reason = e.message.split(" at line ")[0].split(":\n")[0];
      const pos = e.linePos?.[0];
      const where = pos ? `${filename}:${pos.line}:${pos.col}` : filename;
      throw badRequest(`${where}: invalid YAML/JSON: ${reason}`, "file");
    }
    if (e instanceof Error && /alias/i.test(e.message)) throw badRequest(`${filename}: refused: more than ${MAX_ALIASES} YAML aliases (alias bomb)`, "file");
    throw badRequest(`${filename}: invalid YAML/JSON`, "file");
  }
  refuseCycles(value, filename);
  return value;
}

function refuseCycles(root: unknown, filename: string): void {
  const onPath = new Set<object>();
  const visit = (v: unknown, pointer: string): void => {
    if (v === null || typeof v !== "object") return;
    if (onPath.has(v)) throw badRequest(`${filename}: refused: a YAML alias refers to itself at ${pointer || "/"}`, "file");
    onPath.add(v);
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${pointer}/${i}`));
    else for (const [k, x] of Object.entries(v)) visit(x, `${pointer}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
    onPath.delete(v);
  };
  visit(root, "");
}
