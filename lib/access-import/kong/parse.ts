import { badRequest } from "@/lib/errors";
import type { DesiredState } from "../desired";
import { resolvePlaceholders } from "../placeholders";
import { parseYamlOrJson } from "../yaml";
import { kongConfigSchema } from "./schema";
import { translateKong } from "./translate";

/** A Kong declarative file (YAML or JSON) -> desired state, or a 400 naming file and place. */
export function parseKongFile(bytes: Buffer, filename: string, vars: Record<string, string>, maxBytes: number): DesiredState {
  if (bytes.length === 0) throw badRequest(`${filename}: the file is empty`, "file");
  if (bytes.length > maxBytes) throw badRequest(`${filename}: ${bytes.length} bytes is over the limit of ${maxBytes} bytes (TOLLGATE_ACCESS_IMPORT_MAX_BYTES)`, "file");
  const text = bytes.toString("utf8");
  if (text.includes("\uFFFD")) throw badRequest(`${filename}: not valid UTF-8 text`, "file");
  const raw = parseYamlOrJson(text, filename);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw badRequest(`${filename}: the top level must be a mapping with _format_version`, "file");
  const resolved = resolvePlaceholders(raw, vars, filename);
  const parsed = kongConfigSchema.safeParse(resolved);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const pointer = "/" + issue.path.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
    // zod messages name the expected shape, never the received value.
    throw badRequest(`${filename} ${pointer}: ${issue.message}; nothing was imported`, pointer);
  }
  return translateKong(parsed.data, filename);
}
