import type { Actor } from "@/lib/auth/actor";
import { startExport, type ExportDeps } from "./export";

/**
 * `GET /api/v1/reports/<report>?format=csv|json|pdf&<filters>` as a Response.
 * The export id is a header so a client can look up the record (and the hash
 * recorded when the stream ended) at /api/v1/reports/exports/<id>. Buffered PDFs
 * carry their SHA-256 as a header too, also as an RFC 9530 Repr-Digest.
 */
export async function exportResponse(actor: Actor, req: Request, report: string, deps?: ExportDeps): Promise<Response> {
  const params = new URL(req.url).searchParams;
  const filters: Record<string, string> = {};
  for (const [k, v] of params) if (k !== "format") filters[k] = v;
  const result = await startExport(actor, { report, format: params.get("format") ?? "csv", filters }, deps);
  const headers = new Headers({
    "content-type": result.contentType,
    "content-disposition": `attachment; filename="${result.filename}"`,
    "cache-control": "no-store",
    "x-tollgate-export-id": result.exportId,
    "x-content-type-options": "nosniff",
  });
  if (result.sha256) {
    headers.set("x-tollgate-sha256", result.sha256);
    headers.set("repr-digest", `sha-256=:${Buffer.from(result.sha256, "hex").toString("base64")}:`);
  }
  return new Response(result.body, { status: 200, headers });
}
