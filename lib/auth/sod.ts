import { z } from "zod";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { forbidden, fromZod, notFound } from "@/lib/errors";
import { appendAuditEvent } from "@/lib/audit/chain";
import { authorize, type Actor } from "./actor";

/**
 * Separation of duties, enforced in the data layer (docs/SECURITY.md):
 * nobody decides on a grant held by their own principal, nor on a grant held by
 * a non-human principal (service account, API key) they own — the owner of a
 * non-human principal is its `managerId`.
 */
export async function assertNotSelfReview(tx: Tx | PrismaClient, actor: Actor, grantId: string): Promise<void> {
  if (actor.kind !== "user") return; // tokens and jobs never decide (callers refuse them separately)
  const grant = await tx.grant.findUnique({
    where: { id: grantId },
    select: { principal: { select: { id: true, kind: true, managerId: true } } },
  });
  if (!grant) throw notFound("Grant");
  if (!actor.principalId) return;
  if (grant.principal.id === actor.principalId) {
    throw forbidden("Separation of duties: you cannot decide on a grant you hold");
  }
  if (grant.principal.kind !== "user" && grant.principal.managerId === actor.principalId) {
    throw forbidden("Separation of duties: you cannot decide on a credential you own");
  }
}

export const TWO_PERSON_RULE_KEY = "twoPersonRule";

export const twoPersonRuleSchema = z
  .object({
    enabled: z.boolean(),
    /** Scope levels that need a second reviewer. */
    levels: z.array(z.enum(["read", "write", "admin"])).max(3),
    /** Environment tiers or names (e.g. "production", or "payments-prod"). */
    environments: z.array(z.string().trim().min(1).max(100)).max(50),
  })
  .strict();

export type TwoPersonRule = z.infer<typeof twoPersonRuleSchema>;

export const DEFAULT_TWO_PERSON_RULE: TwoPersonRule = { enabled: true, levels: ["admin"], environments: ["production"] };

/** The configured rule; a missing or no-longer-valid row means the default (fail closed, not open). */
export async function loadTwoPersonRule(client: Tx | PrismaClient = db()): Promise<TwoPersonRule> {
  const row = await client.setting.findUnique({ where: { key: TWO_PERSON_RULE_KEY } });
  const parsed = twoPersonRuleSchema.safeParse(row?.value);
  return parsed.success ? parsed.data : DEFAULT_TWO_PERSON_RULE;
}

export interface RuleGrant {
  scope: { level: string };
  environment: { tier: string; name: string };
}

/**
 * Whether a decision on this grant must be confirmed by a second reviewer.
 * Pure, so callers load the rule once per transaction (`loadTwoPersonRule(tx)`)
 * and pass it; without it the default rule applies.
 */
export function requiresSecondReviewer(grant: RuleGrant, rule: TwoPersonRule = DEFAULT_TWO_PERSON_RULE): boolean {
  if (!rule.enabled) return false;
  if (!rule.levels.includes(grant.scope.level as TwoPersonRule["levels"][number])) return false;
  return rule.environments.includes(grant.environment.tier) || rule.environments.includes(grant.environment.name);
}

/** Admins change the rule; the change and its audit event commit together. */
export async function updateTwoPersonRule(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<TwoPersonRule> {
  authorize(actor, "settings:write");
  const parsed = twoPersonRuleSchema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const rule = parsed.data;
  const by = actor.kind === "user" ? actor.email : actor.name;
  return client.$transaction(async (tx) => {
    const before = await loadTwoPersonRule(tx);
    await tx.setting.upsert({
      where: { key: TWO_PERSON_RULE_KEY },
      create: { key: TWO_PERSON_RULE_KEY, value: rule, updatedBy: by },
      update: { value: rule, updatedBy: by },
    });
    await appendAuditEvent(tx, { actor, action: "settings.update", target: `settings:${TWO_PERSON_RULE_KEY}`, data: { from: before, to: rule } });
    return rule;
  });
}
