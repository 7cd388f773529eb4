import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { retrying } from "@/lib/db/retry";
import { AppError, badRequest, conflict, fromZod, notFound } from "@/lib/errors";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { writePlan, type ApplyCounts } from "./apply";
import type { DesiredState } from "./desired";
import { parseKongFile } from "./kong/parse";
import { readCsvFiles } from "./csv";
import { readNdjson } from "./ndjson";
import { phaseTimer } from "./phases";
import { GrantStage, type UndefinedRef } from "./stage";
import { computePlan, type AccessPlan } from "./plan";

// Access import: one entry for the CLI (`npm run import:access`), the upload
// page and `POST /api/v1/imports/access`. plan() writes nothing; apply() writes
// in one transaction what the plan showed, or nothing (409 when the plan it was
// given is stale). Formats: Kong declarative configuration (kong.yml / JSON),
// Tollgate NDJSON (one file) and Tollgate CSV (one file per kind).

export const FORMATS = ["kong", "ndjson", "csv"] as const;
export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;

const fileContent = z.union([z.instanceof(Buffer), z.instanceof(Readable)]);
export const MAX_CSV_FILES = 50;

const inputSchema = z.object({
  format: z.enum(FORMATS),
  environment: z.string().trim().min(1, "is required").max(100),
  /** Names what "the last import of this source" is; default "<format>-<environment>". */
  source: z.string().trim().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, "letters, digits and . _ : - only").optional(),
  /** The file's bytes, or a stream of them (the CLI streams an NDJSON file: it is read line by line, never whole). */
  file: fileContent.optional(),
  filename: z.string().max(300).default("upload"),
  /** CSV: one file per kind, each named by its kind (principals.csv, grants.csv, …). */
  files: z.array(z.object({ filename: z.string().min(1).max(300), file: fileContent })).max(MAX_CSV_FILES, `at most ${MAX_CSV_FILES} files`).optional(),
  /** Values for environment placeholders, named explicitly by the user (never read from the server's environment here). */
  vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  expectedPlanHash: z.string().regex(/^[0-9a-f]{64}$/, "must be the planHash of a plan").optional(),
}).refine((i) => (i.format === "csv" ? !!i.files?.length || !!i.file : !!i.file && !i.files), { message: "give one file (kong, ndjson) or the CSV files (csv)", path: ["file"] });
export type AccessImportInput = z.input<typeof inputSchema>;

export interface AccessImportOptions {
  client?: PrismaClient;
  maxBytes?: number;
}

export interface AccessImportResult extends AccessPlan, ApplyCounts {
  applied: boolean;
}

function maxBytes(opts: AccessImportOptions): number {
  return opts.maxBytes ?? importMaxBytes();
}

/** TOLLGATE_ACCESS_IMPORT_MAX_BYTES, default 20 MiB (a Kong file of 10,000 consumers is about 1.5 MB). */
export function importMaxBytes(): number {
  const raw = process.env.TOLLGATE_ACCESS_IMPORT_MAX_BYTES;
  if (!raw) return DEFAULT_MAX_BYTES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1024) throw new Error("Invalid configuration: TOLLGATE_ACCESS_IMPORT_MAX_BYTES must be an integer >= 1024");
  return n;
}

/**
 * Reads and checks the file: everything but the grants into memory (the desired
 * state), the grants into a staging table (stage.ts) the plan reads with SQL.
 * The caller drops the stage when it is done (also on failure).
 */
async function prepare(actor: Actor, raw: AccessImportInput, opts: AccessImportOptions, client: PrismaClient) {
  const t = phaseTimer("");
  try {
    authorize(actor, "imports:write");
  } catch (e) {
    for (const f of [raw.file, ...(raw.files ?? []).map((x) => x.file)]) if (f instanceof Readable) f.destroy(); // refused before a byte is read
    throw e;
  }
  const parsed = inputSchema.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  const input = parsed.data;
  const max = maxBytes(opts);
  let desired: DesiredState;
  let fileSha256: string;
  const stage = await GrantStage.open(client);
  try {
    let undefinedRef: UndefinedRef | null = null;
    if (input.format === "ndjson") {
      // Streamed line by line whatever it came as: one code path, never the file whole in memory twice.
      const read = await readNdjson(asStream(input.file!), input.filename, max, stage);
      ({ desired, undefinedRef } = read);
      fileSha256 = read.sha256;
    } else if (input.format === "csv") {
      const files = input.files ?? [{ filename: input.filename, file: input.file! }];
      const read = await readCsvFiles(files.map((f) => ({ filename: f.filename, file: asStream(f.file) })), max, stage);
      ({ desired, undefinedRef } = read);
      fileSha256 = read.sha256;
    } else {
      // YAML is parsed as one document: a stream is read (up to the limit) first.
      const file = input.file instanceof Readable ? await readWhole(input.file, input.filename, max) : input.file!;
      desired = parseKongFile(file, input.filename, input.vars, max);
      fileSha256 = createHash("sha256").update(file).digest("hex");
      await stage.addAll(desired.grants);
      desired.grants = [];
    }
    t.lap("read and validate the file");
    await stage.close();
    if (input.format !== "kong") {
      // Kong's translation makes its grants from the consumers and scopes it defines: nothing to check.
      await stage.check({ principals: desired.principals.map((p) => p.ext), scopes: desired.scopes.map((s) => s.ext) }, undefinedRef, input.format === "csv" ? "these files" : "this file");
    }
    t.lap("stage the grants (COPY) and check them");
  } catch (e) {
    await stage.drop();
    throw e;
  }
  return { input, desired, fileSha256, stage, sourceName: input.source ?? `${input.format}-${input.environment}` };
}

const asStream = (f: Buffer | Readable): Readable => (f instanceof Readable ? f : Readable.from([f]));

async function readWhole(stream: Readable, filename: string, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (size > max) {
      stream.destroy();
      throw badRequest(`${filename}: over the limit of ${max} bytes (TOLLGATE_ACCESS_IMPORT_MAX_BYTES); nothing was imported`, "file");
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** What computePlan needs from a prepared import, for the plan-only and the apply transaction alike. */
function planInput(p: Awaited<ReturnType<typeof prepare>>, environment: { id: string; name: string }) {
  return { sourceName: p.sourceName, format: p.input.format, environment, fileSha256: p.fileSha256, desired: p.desired, stageTable: p.stage.table, sidePool: p.stage.sidePool };
}

async function environmentOf(client: PrismaClient | Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0], name: string) {
  const env = await client.environment.findUnique({ where: { name }, select: { id: true, name: true } });
  if (!env) throw notFound(`Environment ${name}`);
  return env;
}

/** What the file would change, with its risk summary. Writes nothing. */
export async function planAccessImport(actor: Actor, raw: AccessImportInput, opts: AccessImportOptions = {}): Promise<AccessPlan> {
  const client = opts.client ?? db();
  const p = await prepare(actor, raw, opts, client);
  try {
    // A transaction that writes nothing lasting: the grant diff is a temporary table dropped at its end.
    return await client.$transaction(
      async (tx) => {
        const environment = await environmentOf(tx, p.input.environment);
        const full = await computePlan(tx, planInput(p, environment));
        return full.plan;
      },
      { timeout: 600_000, maxWait: 30_000 },
    );
  } finally {
    await p.stage.drop();
  }
}

/**
 * Applies the file in one transaction. With `expectedPlanHash` (the plan the
 * user reviewed) any change to the file or to the rows the plan was computed
 * from is a 409 and nothing is written. An unchanged source is a no-op.
 */
export async function applyAccessImport(actor: Actor, raw: AccessImportInput, opts: AccessImportOptions = {}): Promise<AccessImportResult> {
  const client = opts.client ?? db();
  const p = await prepare(actor, raw, opts, client);
  let result: AccessImportResult;
  try {
    // A deadlock, serialization failure or no connection in time rolled everything
    // back: the plan is recomputed inside the transaction, so running it again is
    // safe (lib/db/retry.ts). Few attempts: this transaction can be long.
    result = await retrying(client, "apply the access import", { attempts: 3 }).$transaction(
      async (tx) => {
        // One apply per source at a time; a second waits and then sees the first's rows.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${"access-import:" + p.sourceName}))`;
        const environment = await environmentOf(tx, p.input.environment);
        const full = await computePlan(tx, planInput(p, environment));
        if (p.input.expectedPlanHash && p.input.expectedPlanHash !== full.plan.planHash) {
          throw conflict("The inventory or the file changed since this plan was computed: review the new plan and apply again");
        }
        if (full.plan.empty) {
          const none = { created: 0, updated: 0, gone: 0 };
          return { ...full.plan, applied: false, written: { principal: none, credential: none, api: none, scope: none, endpoint: none, grant: none }, findingsOpened: 0, outboxRows: 0, outsideReview: { findingsOpened: 0, rolledBackGrants: 0, proposedGrants: 0, revokedKeys: 0 } };
        }
        const counts = await writePlan(tx, actor, full, p.sourceName, p.input.format);
        return { ...full.plan, applied: true, ...counts };
      },
      { timeout: 600_000, maxWait: 30_000 },
    );
  } catch (e) {
    if (e instanceof AppError) throw e;
    if ((e as { code?: string }).code === "P2002") throw conflict("A concurrent change created the same rows: review the new plan and apply again");
    throw e;
  } finally {
    await p.stage.drop();
  }
  if (result.outboxRows > 0 || result.outsideReview.rolledBackGrants + result.outsideReview.revokedKeys > 0) wakeDelivery();
  return result;
}

export type { AccessPlan };
