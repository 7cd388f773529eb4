"use client";
import { Badge } from "@/components/badge";
import type { DecisionStateView } from "./use-decision-states";

const DONE = { approve: "Approved", reduce: "Reduced", revoke: "Revoked" } as const;
const PROPOSED = { approve: "Approve", reduce: "Reduce", revoke: "Revoke" } as const;
type Kind = keyof typeof DONE;

/**
 * The honest part of the optimistic UI: what the proxies have actually confirmed.
 * A revoke or reduce in an environment no proxy serves changed the database only,
 * and says so ("not enforced — no proxy serves staging") instead of looking like the
 * grey of an approval. `data-enforcement` names the state for specs.
 */
export function EnforcementBadge({ state, onRetry }: { state: DecisionStateView; onRetry?: () => void }) {
  const kind = (state.kind in DONE ? state.kind : "revoke") as Kind;
  const label = DONE[kind];
  let badge: React.ReactNode;
  let name = state.enforcement;
  if (state.enforcement === "proposed") {
    name = "awaiting";
    badge = <Badge tone="warn">{PROPOSED[kind]} proposed · awaiting 2nd reviewer</Badge>;
  } else if (state.enforcement === "not_required" && kind !== "approve") {
    name = "not_enforced";
    badge = (
      <Badge tone="warn" title="The grant is revoked in Tollgate's inventory, but no proxy enforces this environment, so requests are not blocked by Tollgate">
        {label} · not enforced — no proxy serves {state.environment}
      </Badge>
    );
  } else if (state.enforcement === "not_required") badge = <Badge tone="neutral">{label}</Badge>;
  else if (state.enforcement === "applied")
    badge = (
      <Badge tone="good" title={state.verifiedRemovedAt ? "The proxy confirmed the grant is gone" : undefined}>
        {label} · enforced · rev {state.revision ?? "?"}
        {state.verifiedRemovedAt ? " · verified removed" : ""}
      </Badge>
    );
  else if (state.enforcement === "failed")
    badge = (
      <span className="inline-flex items-center gap-1">
        <Badge tone="bad" title={state.lastError ?? undefined}>
          {label} · enforcement failed{state.lastError ? `: ${state.lastError}` : ""}
        </Badge>
        {onRetry ? (
          <button type="button" onClick={onRetry} className="text-xs text-sky-800 underline">
            Retry
          </button>
        ) : null}
      </span>
    );
  else
    badge = (
      <Badge tone="info" title={state.lastError ?? undefined}>
        {label} · pending{state.waitingOn ? ` on ${state.waitingOn}` : ""}
        {state.lastError ? " (retrying)" : "…"}
      </Badge>
    );
  return (
    <span data-testid="enforcement-state" data-enforcement={name}>
      {badge}
    </span>
  );
}
