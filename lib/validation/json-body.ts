import { badRequest } from "@/lib/errors";

/**
 * A request body as JSON, refusing bytes that are not UTF-8. `Request.json()`
 * silently turns invalid bytes into U+FFFD, so a garbled report (or a hostile
 * one) would be stored as if it were what the sender meant.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw badRequest("body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`body is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}
