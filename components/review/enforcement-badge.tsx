"use client";
import { Badge } from "@/components/badge";
import type { DecisionStateView } from "./use-decision-states";

/** The honest part of the optimistic UI: what the proxies have actually confirmed. */
export function EnforcementBadge({ state, onRetry }: { state: DecisionStateView; onRetry?: () => void }) {
  const label = state.kind === "approve" ? "Approved" : state.kind === "reduce" ? "Reduced" : "Revoked";
  let badge: React.ReactNode;
  if (state.enforcement === "proposed") badge = <Badge tone="warn">{label}: awaiting 2nd reviewer</Badge>;
  else if (state.enforcement === "not_required") badge = <Badge tone="neutral">{label}</Badge>;
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
    <span data-testid="enforcement-state" data-enforcement={state.enforcement === "proposed" ? "awaiting" : state.enforcement}>
      {badge}
    </span>
  );
}
