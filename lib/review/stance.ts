import { can, type Actor } from "@/lib/auth/actor";

/**
 * What the person looking at the queue may do there, said up front: a screen
 * that offers Approve or Revoke only to refuse it afterwards teaches nothing.
 * Pure (the callers load what they need), so the page, the detail route and the
 * tests ask the same question. The decide functions still check everything
 * themselves (lib/review/decide.ts, lib/auth/sod.ts): this only decides what is shown.
 */
export interface QueueStance {
  /** May approve, revoke, reduce and confirm findings at all (the "findings:decide" permission). */
  canDecide: boolean;
  /** May start an analysis run. */
  canRunAnalysis: boolean;
  /** Why the queue is read-only for this person (separation of duties), or null when they decide. */
  readOnlyReason: string | null;
}

const ROLE_REASON: Record<string, string> = {
  admin: "Admins run Tollgate (settings, proxies, campaigns) but do not decide findings: separation of duties keeps who configures access apart from who judges it. A reviewer decides.",
  manager: "Managers certify their team's access in campaigns (Certifications); findings in this queue are decided by reviewers (separation of duties).",
  auditor: "Auditors read the evidence and never change access (separation of duties).",
};

export function queueStance(actor: Actor): QueueStance {
  const canDecide = can(actor, "findings:decide") && actor.kind === "user";
  const role = actor.kind === "user" ? (["admin", "manager", "auditor"] as const).find((r) => actor.roles.includes(r)) : undefined;
  return {
    canDecide,
    canRunAnalysis: can(actor, "analysis:run"),
    readOnlyReason: canDecide ? null : `Read-only. ${role ? ROLE_REASON[role] : "Only a signed-in reviewer decides findings."}`,
  };
}

/** Who holds the grant a finding is about: a person, or a non-human principal and its owner (managerId). */
export interface GrantHolder {
  id: string;
  kind: string;
  managerId: string | null;
}

/** The reason this person may not decide this grant (they hold it, or own the credential), or null. Mirrors assertNotSelfReview. */
export function selfReviewReason(actor: Actor, holder: GrantHolder): string | null {
  if (actor.kind !== "user" || !actor.principalId) return null;
  if (holder.id === actor.principalId) return "Separation of duties: you cannot decide on a grant you hold";
  if (holder.kind !== "user" && holder.managerId === actor.principalId) return "Separation of duties: you cannot decide on a credential you own";
  return null;
}

/** Whether this person may decide the finding now, and if not, why. */
export function findingStance(actor: Actor, holder: GrantHolder): { canDecide: boolean; reason: string | null } {
  const queue = queueStance(actor);
  if (!queue.canDecide) return { canDecide: false, reason: queue.readOnlyReason };
  const self = selfReviewReason(actor, holder);
  return { canDecide: self === null, reason: self };
}

/**
 * The two-person rule as this person meets a proposal: the proposer waits for
 * someone else (and is told so, not offered a Confirm they would be refused);
 * anyone else who may decide the grant may confirm.
 */
export function confirmStance(actor: Actor, holder: GrantHolder, proposal: { deciderId: string; enforcement: string }): { mayConfirm: boolean; waiting: string | null } {
  if (proposal.enforcement !== "proposed") return { mayConfirm: false, waiting: null };
  if (actor.kind === "user" && proposal.deciderId === actor.userId) return { mayConfirm: false, waiting: "You proposed this: waiting for another reviewer to confirm it." };
  const stance = findingStance(actor, holder);
  if (!stance.canDecide) return { mayConfirm: false, waiting: "Waiting for another reviewer to confirm it." };
  return { mayConfirm: true, waiting: null };
}
