import { cache } from "react";
import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { authOptions } from "./options";
import { knownRoles } from "./roles";
import type { Actor } from "./actor";

export type UserActor = Extract<Actor, { kind: "user" }>;

/**
 * The ONE way pages, server actions and route handlers learn who is calling.
 * The session cookie only says which user; roles are re-read from the
 * database on every request, so a revoked role takes effect immediately.
 * Throws AppError("unauthenticated") without a valid session.
 */
export const currentActor = cache(async (): Promise<UserActor> => {
  const session = await getServerSession(authOptions());
  const userId = session?.userId;
  if (!userId) throw new AppError("unauthenticated", "Sign in required");
  const user = await db().user.findUnique({
    where: { id: userId },
    select: { id: true, email: true, name: true, roles: true, principalId: true },
  });
  if (!user) throw new AppError("unauthenticated", "Your account no longer exists; sign in again");
  return { kind: "user", userId: user.id, email: user.email, name: user.name, roles: knownRoles(user.roles), principalId: user.principalId };
});

/** For pages and layouts: the signed-in user, or a redirect to /signin. */
export async function requirePageActor(): Promise<UserActor> {
  let actor: UserActor;
  try {
    actor = await currentActor();
  } catch (e) {
    if (e instanceof AppError && e.code === "unauthenticated") redirect("/signin");
    throw e;
  }
  // Every role was taken away since sign-in: nothing left to show.
  if (actor.roles.length === 0) redirect("/signin?error=NoRoles");
  return actor;
}

/**
 * For route handlers machines may call too: a `Bearer tgs_…` service token
 * when present, otherwise the session user.
 */
export async function requestActor(req: Request): Promise<Actor> {
  const authz = req.headers.get("authorization");
  if (authz && /^bearer\s/i.test(authz)) {
    const { authenticateServiceToken } = await import("./service-tokens");
    return authenticateServiceToken(authz);
  }
  return currentActor();
}
