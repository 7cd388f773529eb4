import { badRequest } from "@/lib/errors";

// Multipart framing adds a little to the file; the import checks the file itself exactly.
const FRAMING = 64 * 1024;

/** How an import endpoint words its upload errors. */
export interface UploadRules {
  maxBytes: number;
  /** The field a body over the limit, or a malformed one, is reported against ("file", "document"). */
  field: string;
  /** What the multipart `file` field must hold, for the message when it is missing ("document"). */
  holds: string;
  /** Appended to an over-the-limit message, e.g. how to raise the limit. */
  hint?: string;
}

/** A 400 before anything is read when the declared length is over the limit. */
export function refuseDeclaredOverLimit(req: Request, rules: UploadRules): void {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > rules.maxBytes + FRAMING) throw badRequest(`request body is ${declared} bytes, over the limit of ${rules.maxBytes} bytes${rules.hint ?? ""}`, rules.field);
}

/**
 * An import's upload (`POST /api/v1/imports/*`): the file is the raw body, or the
 * `file` field of a multipart form whose other fields (`paramKeys`) fill in the
 * parameters the query string did not set. A body with no declared length (chunked)
 * is read with the same limit and refused as soon as it passes it.
 */
export interface Upload {
  params: Record<string, string>;
  /** The (first) file. */
  file: Buffer;
  filename?: string;
  /** Every `file` field of a multipart body, in order (CSV imports send one per file); absent for a raw body. */
  parts?: { file: Buffer; filename?: string }[];
}

export async function readUpload(req: Request, rules: UploadRules, paramKeys: string[]): Promise<Upload> {
  refuseDeclaredOverLimit(req, rules);
  const params: Record<string, string> = Object.fromEntries(new URL(req.url).searchParams);
  const type = req.headers.get("content-type") ?? "";
  const bytes = await readLimited(req, rules);
  if (!type.startsWith("multipart/form-data")) return { params, file: bytes };
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(bytes), { headers: { "content-type": type } }).formData();
  } catch {
    throw badRequest("malformed multipart body", rules.field);
  }
  const files = form.getAll("file").filter((f): f is File => typeof f !== "string");
  if (files.length === 0) throw badRequest(`multipart body needs a "file" field with the ${rules.holds}`, "file");
  for (const key of paramKeys) {
    const v = form.get(key);
    if (typeof v === "string" && v !== "" && params[key] === undefined) params[key] = v;
  }
  const parts = await Promise.all(files.map(async (f) => ({ file: Buffer.from(await f.arrayBuffer()), filename: f.name || undefined })));
  return { params, ...parts[0], parts };
}

/** The body, or a 400 as soon as it passes the limit (the rest is never buffered). */
async function readLimited(req: Request, rules: UploadRules): Promise<Buffer> {
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > rules.maxBytes + FRAMING) {
      await reader.cancel().catch(() => undefined);
      throw badRequest(`request body is over the limit of ${rules.maxBytes} bytes${rules.hint ?? ""}`, rules.field);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** A flag parameter ("1"/"true" is on; "0", "false" or absent is off). */
export const flag = (v: string | undefined): boolean => v === "1" || v === "true";
