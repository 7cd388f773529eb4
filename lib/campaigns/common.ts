import type { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { fromZod, forbidden } from "@/lib/errors";

export type UserActor = Extract<Actor, { kind: "user" }>;

export function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

/**
 * Certifying is done by a person: a manager or reviewer on the item's list,
 * or the campaign owner (an admin) for items the rule could not route
 * anywhere else. Item-level ownership is checked under the item's lock.
 */
export function requireCertifier(actor: Actor): UserActor {
  authorize(actor, "campaigns:certify");
  if (actor.kind !== "user") throw forbidden("Only a signed-in person can certify access");
  return actor;
}

export function requireManager(actor: Actor): void {
  authorize(actor, "campaigns:manage");
}

export const DAY_MS = 86_400_000;

/** Roles a reviewer rule may pick (admins appear only as the campaign owner fallback). */
export const CERTIFIER_ROLES = ["manager", "reviewer"];
