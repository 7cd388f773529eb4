import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { z } from "zod";
import type { Actor } from "@/lib/auth/actor";
import { badRequest, fromZod } from "@/lib/errors";
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
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes + 64 * 1024) throw badRequest(`request body is ${declared} bytes, over the limit of ${maxBytes} bytes`, "file");
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
  const bytes = await readLimited(req, maxBytes + 64 * 1024);
  let file = bytes;
  let filename = "upload";
  if (type.startsWith("multipart/form-data")) {
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(bytes), { headers: { "content-type": type } }).formData();
    } catch {
      throw badRequest("malformed multipart body", "file");
    }
    for (const key of ["format", "env", "source", "dryRun", "planHash"]) {
      const v = form.get(key);
      if (typeof v === "string" && v !== "" && params[key] === undefined) params[key] = v;
    }
    const parts = form.getAll("file").filter((f): f is File => typeof f !== "string");
    if (parts.length === 0) throw badRequest('multipart body needs a "file" field with the import file (for CSV: one "file" field per file)', "file");
    const q = query.safeParse(params);
    if (!q.success) throw fromZod(q.error);
    if (q.data.format === "csv") {
      // CSV: one part per file, each named by its kind (principals.csv, grants.csv, …).
      const files = await Promise.all(parts.map(async (f) => ({ filename: f.name || "upload.csv", file: Buffer.from(await f.arrayBuffer()) })));
      return run(actor, q.data, { files }, { ...opts, maxBytes });
    }
    if (parts.length > 1) throw badRequest(`format ${q.data.format} takes one "file" field; several files are for format=csv`, "file");
    file = Buffer.from(await parts[0].arrayBuffer());
    filename = parts[0].name || filename;
  }
  const q = query.safeParse(params);
  if (!q.success) throw fromZod(q.error);
  if (q.data.format === "csv" && !type.startsWith("multipart/form-data")) {
    // A raw body is one nameless file, and a CSV file's name says its kind.
    throw badRequest('CSV is uploaded as a multipart body with one "file" field per file (principals.csv, grants.csv, …)', "file");
  }
  return run(actor, q.data, { file, filename }, { ...opts, maxBytes });
}

type Content = { file: Buffer | Readable; filename: string } | { files: { filename: string; file: Buffer }[] };

async function run(actor: Actor, q: z.infer<typeof query>, content: Content, opts: AccessImportOptions) {
  const input = { format: q.format, environment: q.env, source: q.source, ...content };
  const dryRun = q.dryRun === "1" || q.dryRun === "true";
  if (dryRun) return { dryRun: true, ...(await planAccessImport(actor, input, opts)) };
  return { dryRun: false, ...(await applyAccessImport(actor, { ...input, expectedPlanHash: q.planHash }, opts)) };
}

async function readLimited(req: Request, limit: number): Promise<Buffer> {
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw badRequest(`request body is over the limit of ${limit - 64 * 1024} bytes`, "file");
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
