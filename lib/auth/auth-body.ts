/**
 * next-auth parses a JSON POST body with `req.json()` and lets the exception
 * escape, so `POST /api/auth/callback/demo` with the body `{` was a 500. A body
 * that declares JSON and is not JSON (or not UTF-8) is answered 400 here,
 * before next-auth sees it; the request next-auth gets is untouched (a clone was read).
 */
export async function refuseMalformedAuthBody(req: Request): Promise<Response | null> {
  if (req.method !== "POST" || !req.body) return null;
  if (!(req.headers.get("content-type") ?? "").toLowerCase().includes("application/json")) return null;
  try {
    JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(await req.clone().arrayBuffer()));
    return null;
  } catch {
    return Response.json({ error: { code: "bad_request", message: "body is not valid JSON" } }, { status: 400 });
  }
}
