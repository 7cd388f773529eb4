import { z } from "zod";
import { upstreamUrl } from "./base-url";
import type { Actor } from "@/lib/auth/actor";
import { badRequest, fromZod } from "@/lib/errors";
import { openApiMaxBytes } from "../config";
import { RAISE_LIMIT } from "./parse";
import { applyImport, planImport, type ImportOptions } from "./import";

const query = z.object({
  api: z.string().trim().min(1, "is required (?api=<name>)"),
  env: z.string().trim().min(1, "is required (?env=<environment>)"),
  dryRun: z.enum(["0", "1", "true", "false"]).optional(),
  baseUrl: upstreamUrl.optional(),
  planHash: z.string().regex(/^[0-9a-f]{64}$/, "must be the planHash of a dry run").optional(),
  /** Required when the import opens write operations to callers without a credential. */
  confirmPublicWrites: z.enum(["0", "1", "true", "false"]).optional(),
});

/**
 * `POST /api/v1/imports/openapi?api=&env=[&dryRun=1][&planHash=]`: the
 * document is the raw body, or the `file` field of a multipart form (whose
 * other fields may carry the same parameters as the query). The declared
 * length is checked before the body is read.
 */
export async function importFromRequest(actor: Actor, req: Request, opts: ImportOptions = {}) {
  const maxBytes = opts.maxBytes ?? openApiMaxBytes();
  const declared = Number(req.headers.get("content-length") ?? "0");
  // Multipart framing adds a little; the document itself is checked exactly later.
  if (declared > maxBytes + 64 * 1024) throw badRequest(`request body is ${declared} bytes, over the limit of ${maxBytes} bytes${RAISE_LIMIT}`, "document");

  const params: Record<string, string> = Object.fromEntries(new URL(req.url).searchParams);
  let document: Buffer;
  let filename: string | undefined;
  const type = req.headers.get("content-type") ?? "";
  // A chunked upload declares no length: read it with the same limit.
  const bytes = await readLimited(req, maxBytes + 64 * 1024);
  if (type.startsWith("multipart/form-data")) {
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(bytes), { headers: { "content-type": type } }).formData();
    } catch {
      throw badRequest("malformed multipart body", "document");
    }
    const file = form.get("file");
    if (!file || typeof file === "string") throw badRequest('multipart body needs a "file" field with the document', "file");
    for (const key of ["api", "env", "dryRun", "baseUrl", "planHash", "confirmPublicWrites"]) {
      const v = form.get(key);
      if (typeof v === "string" && v !== "" && params[key] === undefined) params[key] = v;
    }
    document = Buffer.from(await file.arrayBuffer());
    filename = file.name || undefined;
  } else {
    document = bytes;
  }
  const q = query.safeParse(params);
  if (!q.success) throw fromZod(q.error);
  const input = { apiName: q.data.api, environment: q.data.env, document, filename, baseUrl: q.data.baseUrl };
  const dryRun = q.data.dryRun === "1" || q.data.dryRun === "true";
  if (dryRun) return { dryRun: true, ...(await planImport(actor, input, { ...opts, maxBytes })) };
  const confirmPublicWrites = q.data.confirmPublicWrites === "1" || q.data.confirmPublicWrites === "true";
  return { dryRun: false, ...(await applyImport(actor, { ...input, expectedPlanHash: q.data.planHash, confirmPublicWrites }, { ...opts, maxBytes })) };
}

/** The body, or a 400 as soon as it passes `limit` bytes (the rest is never buffered). */
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
      throw badRequest(`request body is over the limit of ${limit - 64 * 1024} bytes${RAISE_LIMIT}`, "document");
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
