/**
 * The recommendation shown on a certification item, derived from the open findings the launch snapshotted
 * on it (CampaignItem.openFindings). The same function runs on the page (the chip) and in certifyItem (an
 * accepted recommendation is recomputed there, so a stale chip is a conflict, never a silent other decision).
 */
export type CertificationChoice = "keep" | "revoke" | "reduce";

export interface Recommendation {
  decision: CertificationChoice;
  /** Why, in words: the findings it follows from ("dormant, never used"), or "no open findings". */
  because: string;
}

/** Findings that mean the access should go (the rules' own suggestion is "Revoke: …"). */
const REVOKE_RULES = new Set(["dormant", "never_used", "orphaned", "expired_active", "cross_environment", "gone_from_source", "deprecated_scope"]);

const label = (rule: string) => rule.replaceAll("_", " ");

/**
 * Revoke when any finding says the grant is unneeded; reduce (to the scopes used in the dormancy window,
 * the reduce's default) when the scope is over-privileged; keep when there is no open finding. Otherwise
 * (a stale credential, a privileged service principal) there is no one-click answer: a person judges.
 */
export function recommend(findings: readonly { rule: string }[]): Recommendation | null {
  if (findings.length === 0) return { decision: "keep", because: "no open findings" };
  const rules = [...new Set(findings.map((f) => f.rule))];
  const revoke = rules.filter((r) => REVOKE_RULES.has(r));
  if (revoke.length) return { decision: "revoke", because: revoke.map(label).join(", ") };
  if (rules.includes("over_privileged")) return { decision: "reduce", because: "over privileged: keep only the scopes used" };
  return null;
}

/** An item with open findings is risky: keeping it needs a note saying why. */
export const isRisky = (findings: readonly unknown[]) => findings.length > 0;

/** The justification recorded for an accepted recommendation without a note of the reviewer's own. */
export const acceptedJustification = (r: Recommendation) => `Accepted the recommendation to ${r.decision} (${r.because})`;
