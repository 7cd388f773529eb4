import { beforeAll } from "vitest";
import type { PrismaClient } from "@/lib/db";
import type { TestDatabase } from "./db";
import { serviceToken, useAppDatabase } from "./use-test-database";

// What the SCIM tests (lib/scim/*.test.ts) share: the schema URNs of RFC 7643/7644,
// the base URL requests are built on, and the real route handlers (app/scim/v2).
export const BASE = "https://tollgate.example/scim/v2";
export const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";

type Handler = (req: Request) => Promise<Response>;
export type ScimRoute = Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", Handler>;

/** The route module, imported only when called: after useAppDatabase has pointed DATABASE_URL at the test database. */
export const scimRoute = async () => (await import("@/app/scim/v2/[[...path]]/route")) as ScimRoute;

/**
 * A SCIM test file's set-up: a database of its own on the app's default client
 * (useAppDatabase), an IdP's service token with the `scim` scope named `idp`, and
 * the route handlers. Read `scim.client`, `scim.route` and `scim.token` in tests and hooks.
 */
export function useScim(idp: string): { tdb: TestDatabase; client: PrismaClient; route: ScimRoute; token: string } {
  const ctx = useAppDatabase() as { tdb: TestDatabase; client: PrismaClient; route: ScimRoute; token: string };
  beforeAll(async () => {
    ctx.token = await serviceToken(idp, ["scim"]);
    ctx.route = await scimRoute();
  });
  return ctx;
}
