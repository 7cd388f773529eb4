import { authenticateServiceToken } from "@/lib/auth/service-tokens";
import { routeHandler } from "@/lib/auth/http";
import { AppError } from "@/lib/errors";
import { issueKey, issueKeys } from "@/lib/access/credentials";

// POST /api/v1/keys — issue an API key for a principal (service token with
// credentials:manage; automation such as a provisioning pipeline). Body:
// { principalId, expiresAt?, environmentId? } for one key, or { keys: [{ principalId, expiresAt? }, …] }
// (≤ 1000, service accounts) for a batch in one transaction. Keys are in this response only.
export const POST = routeHandler(async (request: Request) => {
  const actor = await authenticateServiceToken(request.headers.get("authorization"));
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw new AppError("bad_request", "body is not valid JSON");
  }
  if (body && typeof body === "object" && "keys" in body) {
    const issued = await issueKeys(actor, body);
    return Response.json({ keys: issued.map((k) => ({ credentialId: k.credentialId, key: k.key, prefix: k.prefix, changeId: k.changeId, enforcement: k.enforcement })) }, { status: 201, headers: { "cache-control": "no-store" } });
  }
  const k = await issueKey(actor, body);
  return Response.json(
    { credentialId: k.credentialId, key: k.key, prefix: k.prefix, expiresAt: k.expiresAt?.toISOString() ?? null, changeId: k.changeId, enforcement: k.enforcement },
    { status: 201, headers: { "cache-control": "no-store" } },
  );
});
