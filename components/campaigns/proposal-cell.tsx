"use client";
import { Badge } from "@/components/badge";
import type { ItemProposalView } from "@/lib/campaigns/my-items";

const btn = "rounded border px-2 py-0.5 text-xs disabled:opacity-40";

/**
 * An item whose decision awaits a second person (two-person rule). The
 * proposer sees that it waits; someone who may confirm gets Confirm / Reject
 * (the rejection's reason is the note on the item's row); anyone
 * else sees why they cannot. No button is shown that could only be refused.
 */
export function ProposalCell({ proposal, frozen, busy, onConfirm, onReject }: { proposal: ItemProposalView; frozen: boolean; busy: boolean; onConfirm: () => void; onReject: () => void }) {
  const what = proposal.decision === "reduce" && proposal.keptScopes.length ? `reduce to ${proposal.keptScopes.join(", ")}` : proposal.decision;
  return (
    <div className="flex flex-col gap-1" data-testid="proposal">
      <div className="flex flex-wrap items-center gap-1">
        <Badge tone="warn">awaiting 2nd reviewer</Badge>
        <span className="text-xs">
          <span className="font-medium" data-testid="proposal-decision">{what}</span> proposed by {proposal.mine ? "you" : proposal.proposedBy}
        </span>
      </div>
      {proposal.justification ? <div className="text-xs text-slate-600">“{proposal.justification}”</div> : null}
      {frozen ? null : proposal.mine ? (
        <div className="text-xs text-slate-600">Applies once another reviewer of this item or the campaign owner confirms it.</div>
      ) : proposal.canConfirm ? (
        <div className="flex gap-1">
          <button type="button" disabled={busy} onClick={onConfirm} className={`${btn} border-emerald-700 text-emerald-800`} aria-label={`Confirm the proposed ${proposal.decision}`}>
            Confirm
          </button>
          <button type="button" disabled={busy} onClick={onReject} className={`${btn} border-slate-600`} aria-label={`Reject the proposed ${proposal.decision} (the note on this row is the reason)`}>
            Reject
          </button>
        </div>
      ) : (
        <div className="text-xs text-slate-600">It concerns your own access or a credential you own: someone else must confirm it.</div>
      )}
    </div>
  );
}
