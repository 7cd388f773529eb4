import { z } from "zod";
import type { Actor } from "@/lib/auth/actor";
import { badRequest, fromZod } from "@/lib/errors";
import { openApiMaxBytes } from "../config";
import { applyImport, planImport, type ImportOptions } from "./import";

const query = z.object({
  api: z.string().trim().min(1, "is required (?api=<name>)"),
  env: z.string().trim().min(1, "is required (?env=<environment>)"),
  dryRun: z.enum(["0", "1", "true", "false"]).optional(),
  baseUrl: z.url().optional(),
  planHash: z.string().regex(/^[0-9a-f]{64}$/, "must be the planHash of a dry run").optional(),
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
  if (declared > maxBytes + 64 * 1024) throw badRequest(`request body is ${declared} bytes, over the limit of ${maxBytes} bytes`, "document");

  const params: Record<string, string> = Object.fromEntries(new URL(req.url).searchParams);
  let document: Buffer;
  let filename: string | undefined;
  const type = req.headers.get("content-type") ?? "";
  if (type.startsWith("multipart/form-data")) {
    let form: FormData;
    try {
      form = await req.formData();
    } catch {
      throw badRequest("malformed multipart body", "document");
    }
    const file = form.get("file");
    if (!file || typeof file === "string") throw badRequest('multipart body needs a "file" field with the document', "file");
    for (const key of ["api", "env", "dryRun", "baseUrl", "planHash"]) {
      const v = form.get(key);
      if (typeof v === "string" && v !== "" && params[key] === undefined) params[key] = v;
    }
    document = Buffer.from(await file.arrayBuffer());
    filename = file.name || undefined;
  } else {
    document = Buffer.from(await req.arrayBuffer());
  }
  const q = query.safeParse(params);
  if (!q.success) throw fromZod(q.error);
  const input = { apiName: q.data.api, environment: q.data.env, document, filename, baseUrl: q.data.baseUrl };
  const dryRun = q.data.dryRun === "1" || q.data.dryRun === "true";
  if (dryRun) return { dryRun: true, ...(await planImport(actor, input, { ...opts, maxBytes })) };
  return { dryRun: false, ...(await applyImport(actor, { ...input, expectedPlanHash: q.data.planHash }, { ...opts, maxBytes })) };
}
