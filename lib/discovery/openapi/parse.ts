import SwaggerParser from "@apidevtools/swagger-parser";
import { badRequest } from "@/lib/errors";
import { rejectRefCycles } from "./ref-cycles";
import { rejectUndefinedSchemes } from "./security-schemes";
import { parseYamlSafely } from "@/lib/validation/yaml";

/**
 * Turns uploaded bytes into a validated OpenAPI object, or a 400 naming the
 * problem and where it is. The parser never follows a `$ref` outside the
 * document: an uploaded description must not make the server fetch a URL
 * (SSRF) or read a local file, so external references are refused up front
 * and the resolver is configured with http/file resolution off as well.
 */
export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
/** Appended to every size refusal, so the person who hits the limit knows what to change. */
export const RAISE_LIMIT = " (an administrator can raise it with the TOLLGATE_OPENAPI_MAX_BYTES environment variable, or --max-bytes on the CLI)";

export type OpenApiDocument = Record<string, unknown> & {
  swagger?: string;
  openapi?: string;
  paths?: Record<string, unknown>;
};

/**
 * What one import may spend in time. Work is synchronous between phases, so the
 * budget is checked at each phase boundary; the node cap on parsing bounds the
 * work inside any one phase.
 */
export class ImportBudget {
  private readonly deadline: number;
  constructor(readonly seconds: number) {
    this.deadline = performance.now() + seconds * 1000;
  }
  check(phase: string): void {
    if (performance.now() > this.deadline) {
      throw badRequest(`the document took more than ${this.seconds} s to process (during ${phase}): too costly to import as one document`, "document");
    }
  }
}

export interface ParsedDocument {
  doc: OpenApiDocument;
  version: string;
  /** "Swagger 2.0" or "OpenAPI 3.x.y": what the document calls itself. */
  label: string;
  title: string;
}

export async function parseOpenApi(input: string | Buffer, opts: { maxBytes?: number; filename?: string; maxNodes?: number; budget?: ImportBudget } = {}): Promise<ParsedDocument> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const size = typeof input === "string" ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) throw badRequest(`document is ${size} bytes, over the limit of ${maxBytes} bytes${RAISE_LIMIT}`, "document");
  if (size === 0) throw badRequest("document is empty", "document");
  const text = typeof input === "string" ? input : input.toString("utf8");
  if (text.includes("\uFFFD") && Buffer.isBuffer(input)) throw badRequest("document is not valid UTF-8 text", "document");

  const raw = parseText(text, opts.filename, opts.maxNodes);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw badRequest("not an OpenAPI document: the top level must be an object", "document");
  }
  const doc = raw as OpenApiDocument;
  const version = detectVersion(doc);
  opts.budget?.check("parsing");
  rejectExternalRefs(doc);
  rejectRefCycles(doc);
  opts.budget?.check("checking references");
  try {
    await SwaggerParser.validate(doc as never, {
      resolve: { external: false, http: false, file: false },
      dereference: { circular: "ignore" },
    } as never);
  } catch (e) {
    throw describeValidationError(e);
  }
  rejectUndefinedSchemes(doc);
  opts.budget?.check("validation");
  const info = doc.info as { title?: unknown } | undefined;
  return { doc, version, label: specLabel(version), title: typeof info?.title === "string" ? info.title : "" };
}

/** JSON is parsed natively (fast for 10+ MB files); YAML through `yaml`, which reports line and column. */
function parseText(text: string, filename: string | undefined, maxNodes: number | undefined): unknown {
  const trimmed = text.trimStart();
  const looksJson = trimmed.startsWith("{") || trimmed.startsWith("[") || /\.json$/i.test(filename ?? "");
  if (looksJson) {
    try {
      return JSON.parse(text);
    } catch (e) {
      const message = (e as Error).message;
      const m = /position (\d+)/.exec(message);
      const where = m ? lineCol(text, Number(m[1])) : /end of JSON/i.test(message) ? lineCol(text, text.length) : null;
      throw badRequest(`invalid JSON${where ? ` at line ${where.line}, column ${where.col}` : ""}: ${message}`, "document");
    }
  }
  // Aliases are where a few lines of YAML become an unbounded (or cyclic) object: the shared guard refuses that at parse time.
  return parseYamlSafely(text, { field: "document", maxNodes });
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, col: offset - last };
}

/** Swagger 2.0 is not "OpenAPI 2.0" to the people who wrote it: label it as the document does. */
export function specLabel(version: string): string {
  return version === "2.0" ? "Swagger 2.0" : `OpenAPI ${version}`;
}

function detectVersion(doc: OpenApiDocument): string {
  if (doc.swagger !== undefined) {
    if (doc.swagger !== "2.0") throw badRequest(`unsupported swagger version ${JSON.stringify(doc.swagger)} (only "2.0")`, "swagger");
    return "2.0";
  }
  if (doc.openapi !== undefined) {
    if (typeof doc.openapi !== "string" || !/^3\.[01]\.\d+$/.test(doc.openapi)) {
      throw badRequest(`unsupported openapi version ${JSON.stringify(doc.openapi)} (3.0.x or 3.1.x)`, "openapi");
    }
    return doc.openapi;
  }
  throw badRequest('not an OpenAPI document: no "openapi" or "swagger" field at the top level', "document");
}

// Postgres text/jsonb cannot hold U+0000 and a lone UTF-16 surrogate has no
// UTF-8 form: either one reaching the database was a driver error (a 500).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
function unstorable(s: string): string | null {
  if (s.includes("\u0000")) return "a NUL character";
  if (LONE_SURROGATE.test(s)) return "an unpaired UTF-16 surrogate";
  return null;
}

/**
 * Walks the document and refuses any `$ref` that does not point inside it,
 * and any key or string the database could not store (naming where it is).
 */
function rejectExternalRefs(doc: unknown): void {
  const stack: { node: unknown; path: string }[] = [{ node: doc, path: "" }];
  while (stack.length) {
    const { node, path } = stack.pop()!;
    if (typeof node === "string") {
      const bad = unstorable(node);
      if (bad) throw badRequest(`the document contains ${bad} at ${JSON.stringify(path).slice(0, 300)}`, "document");
      continue;
    }
    if (node === null || typeof node !== "object") continue;
    if (Array.isArray(node)) {
      node.forEach((child, i) => stack.push({ node: child, path: `${path}/${i}` }));
      continue;
    }
    for (const [key, value] of Object.entries(node)) {
      const here = `${path}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      const bad = unstorable(key) ?? (typeof value === "string" ? unstorable(value) : null);
      if (bad) throw badRequest(`the document contains ${bad} at ${JSON.stringify(here).slice(0, 300)}`, "document");
      if (key === "$ref" && typeof value === "string" && !value.startsWith("#")) {
        throw badRequest(`external $ref "${value}" at ${here} is not allowed: upload a single bundled document`, "document");
      }
      if (typeof value === "object" && value !== null) stack.push({ node: value, path: here });
    }
  }
}

function describeValidationError(e: unknown): Error {
  const err = e as { name?: string; message?: string; path?: unknown; details?: unknown };
  const message = String(err.message ?? "invalid document").split("\n").slice(0, 4).join(" ").slice(0, 600);
  if (err.name === "MissingPointerError") return badRequest(`unresolved $ref: ${message}`, "document");
  if (err.name === "ParserError") return badRequest(`invalid document: ${message}`, "document");
  return badRequest(`invalid OpenAPI document: ${message}`, "document");
}
