import { z } from "zod";
import { upstreamUrl } from "./base-url";
import type { Actor } from "@/lib/auth/actor";
import { fromZod } from "@/lib/errors";
import { flag, readUpload } from "@/lib/validation/upload-body";
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
  const upload = await readUpload(req, { maxBytes, field: "document", holds: "document", hint: RAISE_LIMIT }, Object.keys(query.shape));
  const q = query.safeParse(upload.params);
  if (!q.success) throw fromZod(q.error);
  const input = { apiName: q.data.api, environment: q.data.env, document: upload.file, filename: upload.filename, baseUrl: q.data.baseUrl };
  if (flag(q.data.dryRun)) return { dryRun: true, ...(await planImport(actor, input, { ...opts, maxBytes })) };
  const confirmPublicWrites = flag(q.data.confirmPublicWrites);
  return { dryRun: false, ...(await applyImport(actor, { ...input, expectedPlanHash: q.data.planHash, confirmPublicWrites }, { ...opts, maxBytes })) };
}
