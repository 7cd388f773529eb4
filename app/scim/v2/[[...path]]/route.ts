import { handleScim } from "@/lib/scim";

// SCIM 2.0 (RFC 7643/7644) for Okta, Entra ID and other provisioning clients:
// bearer service token with the scim scope. All logic lives in lib/scim.
export const dynamic = "force-dynamic";

const handle = (req: Request) => handleScim(req);
export const GET = handle;
export const POST = handle;
export const PUT = handle;
export const PATCH = handle;
export const DELETE = handle;
