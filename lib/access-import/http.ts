import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { z } from "zod";
import type { Actor } from "@/lib/auth/actor";
import { badRequest, fromZod } from "@/lib/errors";
import { flag, readUpload, refuseDeclaredOverLimit } from "@/lib/validation/upload-body";
import { applyAccessImport, planAccessImport, FORMATS, importMaxBytes, type AccessImportOptions } from "./index";

const query = z.object({
  format: z.enum(FORMATS).default("kong"),
  env: z.string().trim().min(1, "is required (?env=<environment>)"),
  source: z.string().trim().min(1).max(200).optional(),
  dryRun: z.enum(["0", "1", "true", "false"]).optional(),
  planHash: z.string().regex(/^[0-9a-f]{64}$/, "must be the planHash of a dry run").optional(),
});

/**
 * `POST /api/v1/imports/access?env=&format=kong|ndjson|csv[&source=][&dryRun=1][&planHash=]`:
 * the file is the raw body or the `file` field of a multipart form (whose other
 * fields may carry the same parameters); CSV comes as a multipart form with one
 * `file` field per file, each named by its kind (principals.csv, grants.csv, …). Placeholders in the file cannot be
 * resolved over HTTP (the server's environment is never read for them): they
 * must be substituted before upload, or the import is refused listing them.
 */
export async function accessImportFromRequest(actor: Actor, req: Request, opts: AccessImportOptions = {}) {
  const maxBytes = opts.maxBytes ?? importMaxBytes();
  const rules = { maxBytes, field: "file", holds: "import file" };
  refuseDeclaredOverLimit(req, rules);
  const params: Record<string, string> = Object.fromEntries(new URL(req.url).searchParams);
  const type = req.headers.get("content-type") ?? "";
  if (!type.startsWith("multipart/form-data") && params.format === "ndjson" && req.body) {
    // A raw NDJSON body is streamed into the reader line by line, never buffered whole
    // (lib/access-import/ndjson.ts readNdjson enforces the size limit as it reads).
    const q = query.safeParse(params);
    if (!q.success) {
      await req.body.cancel().catch(() => undefined);
      throw fromZod(q.error);
    }
    const file = Readable.fromWeb(req.body as unknown as NodeReadableStream<Uint8Array>);
    return run(actor, q.data, { file, filename: "upload" }, { ...opts, maxBytes });
  }
  const upload = await readUpload(req, rules, Object.keys(query.shape));
  const q = query.safeParse(upload.params);
  if (!q.success) throw fromZod(q.error);
  if (q.data.format === "csv") {
    // CSV: one multipart part per file, each named by its kind (principals.csv, grants.csv, …);
    // a raw body is one nameless file, so it cannot say its kind.
    if (!upload.parts) throw badRequest('CSV is uploaded as a multipart body with one "file" field per file (principals.csv, grants.csv, …)', "file");
    return run(actor, q.data, { files: upload.parts.map((p) => ({ filename: p.filename ?? "upload.csv", file: p.file })) }, { ...opts, maxBytes });
  }
  if (upload.parts && upload.parts.length > 1) throw badRequest(`format ${q.data.format} takes one "file" field; several files are for format=csv`, "file");
  return run(actor, q.data, { file: upload.file, filename: upload.filename ?? "upload" }, { ...opts, maxBytes });
}

type Content = { file: Buffer | Readable; filename: string } | { files: { filename: string; file: Buffer }[] };

async function run(actor: Actor, q: z.infer<typeof query>, content: Content, opts: AccessImportOptions) {
  const input = { format: q.format, environment: q.env, source: q.source, ...content };
  if (flag(q.dryRun)) return { dryRun: true, ...(await planAccessImport(actor, input, opts)) };
  return { dryRun: false, ...(await applyAccessImport(actor, { ...input, expectedPlanHash: q.planHash }, opts)) };
}
