import { createHash } from "node:crypto";
import { z } from "zod";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { AppError, badRequest } from "@/lib/errors";
import type { DesiredState, Level } from "./desired";
import { meter } from "./metered";
import type { GrantSink, UndefinedRef } from "./stage";

// Tollgate's own import format (docs/IMPORT.md, "NDJSON"): one JSON object per
// line with a `kind`. Objects refer to each other by the ids the file gives them
// (principal `id`, api `id`, scope by api + name). A credential carries either
// the key (hashed here, on the line it is read) or its SHA-256 and display prefix.
// The file is streamed line by line (readNdjson); what is kept is the desired state, never a key.

const ref = z.string().trim().min(1).max(200);
// Normalised to toISOString() so the plan compares like with like (the database gives milliseconds and Z).
const iso = z.iso
  .datetime({ offset: true })
  .nullish()
  .transform((v) => (v ? new Date(v).toISOString() : null));
const TEMPLATE = /^\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\})?(\/([A-Za-z0-9\-._~!$&'()*+,=:@%]+|\{[A-Za-z0-9_.-]+\}))*\/?$/;

export const ndjsonLineSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("principal"), id: ref, name: z.string().trim().min(1).max(200), type: z.enum(["service_account", "user", "api_key"]).default("service_account"), tags: z.array(z.string().max(200)).max(100).default([]) }),
  z.strictObject({ kind: z.literal("api"), id: ref, name: z.string().trim().min(1).max(200), baseUrl: z.url({ protocol: /^https?$/ }), description: z.string().max(2000).nullish() }),
  z.strictObject({ kind: z.literal("scope"), api: ref, name: z.string().trim().min(1).max(200), level: z.enum(["read", "write", "admin"]), description: z.string().max(2000).nullish() }),
  z.strictObject({
    kind: z.literal("endpoint"),
    api: ref,
    method: z.string().regex(/^[A-Za-z]{1,16}$/).transform((m) => m.toUpperCase()),
    path: z.string().max(1000).regex(TEMPLATE, "must be a path template like /orders/{id}"),
    scopes: z.array(z.string().min(1).max(200)).max(100).default([]),
    public: z.boolean().default(false),
    summary: z.string().max(500).nullish(),
  }),
  z
    .strictObject({
      kind: z.literal("credential"),
      principal: ref,
      key: z.string().min(1).max(1024).optional(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be the lower-case hex SHA-256 of the key").optional(),
      prefix: z.string().min(1).max(32).optional(),
      expiresAt: iso,
    })
    .refine((c) => (c.key !== undefined) !== (c.sha256 !== undefined && c.prefix !== undefined) && !(c.key !== undefined && (c.sha256 || c.prefix)), "give either key, or sha256 and prefix"),
  z.strictObject({ kind: z.literal("grant"), principal: ref, api: ref, scope: z.string().min(1).max(200), expiresAt: iso }),
]);

const GRANT_FIELDS = new Set(["kind", "principal", "api", "scope", "expiresAt"]);
const refValue = (v: unknown) => {
  if (typeof v !== "string") return null;
  const t = v.trim();
  return t.length >= 1 && t.length <= 200 ? t : null;
};
const expiresAt = z.strictObject({ expiresAt: iso });
const PLAIN_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,3})?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** An ISO 8601 instant in its plain form (a real calendar day), normalised as `iso` does; anything else goes to the schema. */
function plainInstant(v: string): string | null {
  const m = PLAIN_INSTANT.exec(v);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (mo < 1 || mo > 12 || day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return null;
  // UTC needs no arithmetic: built from the parts (parsing a date string costs more than the rest of the line).
  if (m[8] === "Z") return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${(m[7] ?? ".").slice(1).padEnd(3, "0")}Z`;
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

/**
 * A grant record exactly as ndjsonLineSchema would read it, or null when it is
 * not plainly valid (the schema then reads it and names what is wrong). About
 * four times cheaper than the schema's discriminated union, per line of a
 * million-grant file.
 */
function plainGrant(raw: unknown): { principal: string; api: string; scope: string; expiresAt: string | null } | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const o = raw as Record<string, unknown>;
  if (o.kind !== "grant") return null;
  for (const k in o) if (!GRANT_FIELDS.has(k)) return null;
  const principal = refValue(o.principal);
  const api = refValue(o.api);
  const scope = o.scope;
  if (principal === null || api === null || typeof scope !== "string" || scope.length < 1 || scope.length > 200) return null;
  if (o.expiresAt === undefined || o.expiresAt === null) return { principal, api, scope, expiresAt: null };
  const plain = typeof o.expiresAt === "string" ? plainInstant(o.expiresAt) : null;
  if (plain) return { principal, api, scope, expiresAt: plain };
  const e = expiresAt.safeParse({ expiresAt: o.expiresAt });
  return e.success ? { principal, api, scope, expiresAt: e.data.expiresAt } : null;
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/** Where a record came from: its file and line; `column` names a field's column (CSV). */
export interface Where {
  file: string;
  line: number;
  column?: (field: string) => string | null;
}

/**
 * Builds the desired state from records (NDJSON lines, CSV rows) as they arrive;
 * `finish()` checks cross-references. Errors name the file and line (and, for
 * CSV, the column) and never quote a value: a value may be a key.
 */
export class AccessRecordReader {
  private readonly d: DesiredState = { principals: [], credentials: [], apis: [], scopes: [], endpoints: [], grants: [], notImported: [], warnings: [] };
  private readonly seen = new Map<string, { file: string; line: number }>();
  private readonly refs: { seq: number; at: { file: string; line: number }; ext: string; what: string }[] = [];
  /** With a grant sink: the principals and scopes read so far (grants that refer to them need no check at the end). */
  private readonly principalExts = new Set<string>();
  private readonly scopeExts = new Set<string>();
  private seq = 0;

  /**
   * `within` ends the "not defined in …" message: "this file", or "these files" for CSV.
   * With a `grants` sink, grants go there (a staging table) instead of into the desired
   * state, and their duplicate and reference checks are the sink's (stage.ts, in SQL).
   */
  constructor(
    readonly within = "this file",
    readonly grants: GrantSink | null = null,
  ) {}

  private fail(at: { file: string; line: number }, message: string): never {
    throw badRequest(`${at.file}:${at.line}: ${message}; nothing was imported`, `line ${at.line}`);
  }

  private claim(ext: string, at: Where, what: string) {
    const prior = this.seen.get(ext);
    if (prior) this.fail(at, `${what} is given twice (also ${prior.file === at.file ? `on line ${prior.line}` : `at ${prior.file}:${prior.line}`})`);
    this.seen.set(ext, { file: at.file, line: at.line });
  }

  private ref(at: Where, ext: string, what: string) {
    // Defined already (principals usually come before their keys): it stays defined, nothing to check at the end.
    if (this.seen.has(ext)) return;
    this.refs.push({ seq: this.seq, at: { file: at.file, line: at.line }, ext, what });
  }

  /** A grant to the sink, saying whether its principal and scope were defined by earlier records (then the sink need not check them). */
  private stageGrant(at: Where, principalExt: string, scopeExt: string, api: string, expiresAt: string | null) {
    const resolved = this.principalExts.has(principalExt) && this.scopeExts.has(scopeExt);
    this.grants!.addRow(this.seq, at.file, at.line, principalExt, scopeExt, api, expiresAt, resolved);
  }

  /** One record, already decoded to the NDJSON shape (`kind` and fields). */
  record(raw: unknown, at: Where): void {
    this.seq++;
    if (this.grants) {
      // Grants are nearly every line of a large file: a plain check first, the schema only when it is not clearly valid.
      const g = plainGrant(raw);
      if (g) {
        this.stageGrant(at, `principal:${g.principal}`, `api:${g.api}|${g.scope}`, g.api, g.expiresAt);
        return;
      }
    }
    const parsed = ndjsonLineSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      const field = i.path.length ? String(i.path[0]) : null;
      const column = field !== null ? at.column?.(field) : null;
      const location = column ? `${at.file}:${at.line}:${column}` : `${at.file}:${at.line}`;
      throw badRequest(`${location}: ${i.path.length ? i.path.join(".") + ": " : ""}${i.message}; nothing was imported`, `line ${at.line}`);
    }
    const v = parsed.data;
    switch (v.kind) {
      case "principal":
        this.claim(`principal:${v.id}`, at, `principal ${v.id}`);
        this.d.principals.push({ ext: `principal:${v.id}`, displayName: v.name, kind: v.type, tags: v.tags });
        if (this.grants) this.principalExts.add(`principal:${v.id}`);
        return;
      case "api":
        this.claim(`api:${v.id}`, at, `api ${v.id}`);
        this.d.apis.push({ ext: `api:${v.id}`, name: v.name, baseUrl: v.baseUrl.replace(/\/+$/, ""), proxyPrefix: null, keyLocation: null, description: v.description ?? null });
        return;
      case "scope": {
        const ext = `api:${v.api}|${v.name}`;
        this.claim(ext, at, `scope ${v.name} of api ${v.api}`);
        this.ref(at, `api:${v.api}`, `api ${v.api}`);
        this.d.scopes.push({ ext, apiExt: `api:${v.api}`, name: v.name, level: v.level as Level, description: v.description ?? null });
        if (this.grants) this.scopeExts.add(ext);
        return;
      }
      case "endpoint": {
        const ext = `api:${v.api}|${v.method} ${v.path}`;
        this.claim(ext, at, `endpoint ${v.method} ${v.path} of api ${v.api}`);
        this.ref(at, `api:${v.api}`, `api ${v.api}`);
        for (const s of v.scopes) this.ref(at, `api:${v.api}|${s}`, `scope ${s} of api ${v.api}`);
        if (v.public && v.scopes.length) this.fail(at, "a public endpoint takes no scopes");
        this.d.endpoints.push({ ext, apiExt: `api:${v.api}`, method: v.method, pathTemplate: v.path, public: v.public, summary: v.summary ?? null, scopeExts: v.scopes.map((s) => `api:${v.api}|${s}`) });
        return;
      }
      case "credential": {
        // Hashed on the record it is read from: the plaintext goes no further.
        const hash = v.key !== undefined ? sha256(v.key) : v.sha256!;
        const prefix = v.key !== undefined ? `key_${hash.slice(0, 8)}` : v.prefix!;
        this.claim(`key:${hash}`, at, "this key");
        this.ref(at, `principal:${v.principal}`, `principal ${v.principal}`);
        this.d.credentials.push({ ext: `key:${hash}`, principalExt: `principal:${v.principal}`, hash, prefix, expiresAt: v.expiresAt ?? null });
        return;
      }
      case "grant": {
        const ext = `principal:${v.principal}|api:${v.api}|${v.scope}`;
        if (this.grants) {
          this.stageGrant(at, `principal:${v.principal}`, `api:${v.api}|${v.scope}`, v.api, v.expiresAt ?? null);
          return;
        }
        this.claim(ext, at, `grant of ${v.scope} (api ${v.api}) to ${v.principal}`);
        this.ref(at, `principal:${v.principal}`, `principal ${v.principal}`);
        this.ref(at, `api:${v.api}|${v.scope}`, `scope ${v.scope} of api ${v.api}`);
        this.d.grants.push({ ext, principalExt: `principal:${v.principal}`, scopeExt: `api:${v.api}|${v.scope}`, expiresAt: v.expiresAt ?? null });
        return;
      }
    }
  }

  /** The first reference (in record order) to something no record defines, or null. */
  firstUndefinedRef(): UndefinedRef | null {
    for (const r of this.refs) {
      if (this.seen.has(r.ext)) continue;
      try {
        this.fail(r.at, `${r.what} is not defined in ${this.within}`);
      } catch (e) {
        return { seq: r.seq, error: e as AppError };
      }
    }
    return null;
  }

  /** The desired state; without a grant sink, throws the first unresolved reference (with one, the sink's check() does). */
  finish(): DesiredState {
    const undefinedRef = this.grants ? null : this.firstUndefinedRef();
    if (undefinedRef) throw undefinedRef.error;
    return this.d;
  }
}

/** NDJSON lines -> records: line numbers count every line, blank ones are skipped. */
export class NdjsonReader {
  private lineNo = 0;
  constructor(
    private readonly filename: string,
    private readonly records = new AccessRecordReader(),
  ) {}

  get grants(): GrantSink | null {
    return this.records.grants;
  }

  firstUndefinedRef(): UndefinedRef | null {
    return this.records.firstUndefinedRef();
  }

  line(text: string): void {
    const n = ++this.lineNo;
    if (text.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      // The parser's message could quote the line, which may hold a key.
      throw badRequest(`${this.filename}:${n}: not a JSON object; nothing was imported`, `line ${n}`);
    }
    this.records.record(raw, { file: this.filename, line: n });
  }

  finish(): DesiredState {
    return this.records.finish();
  }
}

export interface ReadNdjson {
  desired: DesiredState;
  /** With a grant sink: the reader's first unresolved reference, for the sink's check() to order against its own. */
  undefinedRef: UndefinedRef | null;
  /** SHA-256 of the bytes read (the source's "file changed" check), computed as they stream past. */
  sha256: string;
  bytes: number;
}

/**
 * NDJSON from a stream -> desired state, one line at a time (readline): the file
 * is never held whole, only the desired state it describes (keys hashed on their
 * line). Lines end at \n, \r\n or a lone \r (readline's rule; JSON never needs a
 * raw CR). Over `maxBytes` the read stops there and nothing is imported; a bad
 * line stops it at that line.
 */
export async function readNdjson(source: Readable, filename: string, maxBytes: number, grants: GrantSink | null = null): Promise<ReadNdjson> {
  const m = meter(source, filename, { used: 0, max: maxBytes });
  const lines = createInterface({ input: m.stream, crlfDelay: Infinity });
  const reader = new NdjsonReader(filename, new AccessRecordReader("this file", grants));
  try {
    for await (const line of lines) {
      reader.line(line);
      if (grants?.full) await grants.flush(); // backpressure: the COPY sets the pace, memory stays flat
    }
  } catch (e) {
    m.stop();
    throw e instanceof AppError ? e : badRequest(`${filename}: could not be read${e instanceof Error ? `: ${e.message}` : ""}`, "file");
  } finally {
    lines.close();
  }
  await m.finished();
  return { desired: reader.finish(), undefinedRef: grants ? reader.firstUndefinedRef() : null, sha256: m.sha256(), bytes: m.bytes() };
}
