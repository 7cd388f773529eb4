import { badRequest } from "@/lib/errors";
import type { OpenApiDocument } from "./parse";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const escape = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/** Names of the declared security schemes (OpenAPI 3 `components.securitySchemes`, Swagger 2.0 `securityDefinitions`). */
export function declaredSchemes(doc: OpenApiDocument): Set<string> {
  const components = doc.components as { securitySchemes?: unknown } | undefined;
  const schemes = doc.swagger ? doc.securityDefinitions : components?.securitySchemes;
  return new Set(schemes && typeof schemes === "object" ? Object.keys(schemes) : []);
}

/**
 * A security requirement naming a scheme the document does not declare is an
 * error in the description (OpenAPI 3.1 §4.8.30: each name MUST correspond to a
 * declared scheme). Importing it would invent a credential nobody can define,
 * so it is a 400 naming the JSON pointer of the requirement.
 */
export function rejectUndefinedSchemes(doc: OpenApiDocument): void {
  const declared = declaredSchemes(doc);
  const check = (security: unknown, pointer: string) => {
    if (!Array.isArray(security)) return;
    security.forEach((requirement, i) => {
      if (!requirement || typeof requirement !== "object") return;
      for (const name of Object.keys(requirement)) {
        if (!declared.has(name)) {
          const where = doc.swagger ? "securityDefinitions" : "components.securitySchemes";
          throw badRequest(`security requirement at ${pointer}/${i}/${escape(name)} names the scheme "${name}", which ${where} does not declare`, "document");
        }
      }
    });
  };
  check(doc.security, "/security");
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, unknown> | null>)) {
    if (!item || typeof item !== "object") continue;
    for (const m of METHODS) {
      const op = item[m] as { security?: unknown } | undefined;
      if (op && typeof op === "object") check(op.security, `/paths/${escape(path)}/${m}/security`);
    }
  }
}
