"use client";
import { useRouter } from "next/navigation";
import { Fragment, useMemo, useState, useTransition } from "react";
import { bulkCertifyAction, certifyAction, confirmProposalAction, delegateAction, rejectProposalAction } from "@/app/(dashboard)/certifications/actions";
import type { MyItem } from "@/lib/campaigns/my-items";
import { useSearchParamsPatch } from "@/components/data-table/use-search-params-patch";
import { ProposalCell } from "./proposal-cell";
import { ReducePicker } from "./reduce-picker";

type Decision = "keep" | "revoke" | "reduce";
const DONE = { keep: "kept", revoke: "revoked", reduce: "reduced" } as const;
const PROPOSED = "it applies once another reviewer of the item or the campaign owner confirms it (two-person rule)";

const SOURCE_NOTE: Record<string, string> = {
  owner_fallback: "No eligible reviewer for this item: you review it as the campaign owner",
  delegated: "Delegated to you",
  fallback_round: "Re-issued to you in the fallback round",
  escalated: "Escalated to you (overdue)",
};

const when = (d: Date | null) => (d ? new Date(d).toISOString().slice(0, 10) : "never");
const OWNER_CONFIRM_NOTE = "You own this campaign: as second reviewer, confirm or reject this proposal";

/**
 * The reviewer's list: rows come from the server already filtered, grouped
 * (the sort order) and paginated; this component adds selection, the
 * justification, per-item and bulk decisions (reduce with a scope picker),
 * confirming or rejecting proposals under the two-person rule, and delegation.
 */
export function CertificationTable({
  rows,
  groupBy,
  frozen,
  delegates,
  empty,
}: {
  rows: MyItem[];
  groupBy: "person" | "api";
  frozen: boolean;
  delegates: { id: string; label: string }[];
  /** Shown when no row matches; the last decision's message stays above it (a confirmed row leaves the "awaiting" list). */
  empty: React.ReactNode;
}) {
  const router = useRouter();
  const { patch } = useSearchParamsPatch();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [justification, setJustification] = useState("");
  const [delegateTo, setDelegateTo] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, start] = useTransition();
  const [reducing, setReducing] = useState<string | null>(null);
  // Selectable: undecided, and no proposal waiting (deciding those again is a 409).
  const open = useMemo(() => rows.filter((r) => !r.decision && !r.proposal), [rows]);
  const groups = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const r of open) m.set(r.groupKey, [...(m.get(r.groupKey) ?? []), r.id]);
    return m;
  }, [open]);

  const toggle = (ids: string[], on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      for (const id of ids) if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const finish = (text: string, ok: boolean) => {
    setMessage({ ok, text });
    if (ok) {
      setSelected(new Set());
      router.refresh();
    }
  };

  const decideOne = (itemId: string, decision: Decision, keepScopeIds?: string[]) =>
    start(async () => {
      const r = await certifyAction({ itemId, decision, justification, ...(keepScopeIds ? { keepScopeIds } : {}) });
      if (r.ok) setReducing(null);
      finish(r.ok ? (r.data.awaitingConfirmation ? `${decision[0].toUpperCase()}${decision.slice(1)} proposed: ${PROPOSED}` : `Item ${DONE[decision]}`) : r.error.message, r.ok);
    });
  const decideSelected = (decision: Decision) =>
    start(async () => {
      const r = await bulkCertifyAction({ itemIds: [...selected], decision, justification });
      if (!r.ok) return finish(r.error.message, false);
      const failed = r.data.failed.map((f) => f.message).join("; ");
      const proposed = r.data.proposed.length ? `; ${r.data.proposed.length} proposed, awaiting a 2nd reviewer` : "";
      finish(`${r.data.decided.length} item(s) decided${proposed}${failed ? `; ${r.data.failed.length} not: ${failed}` : ""}`, r.data.failed.length === 0 || r.data.decided.length + r.data.proposed.length > 0);
    });
  const confirmProposal = (decisionId: string) =>
    start(async () => {
      const r = await confirmProposalAction({ decisionId });
      finish(r.ok ? "Proposal confirmed and applied" : r.error.message, r.ok);
    });
  const rejectProposal = (decisionId: string) =>
    start(async () => {
      const r = await rejectProposalAction({ decisionId, justification });
      finish(r.ok ? "Proposal rejected: the item is open again" : r.error.message, r.ok);
    });
  const delegateSelected = () =>
    start(async () => {
      const r = await delegateAction({ itemIds: [...selected], toUserId: delegateTo });
      finish(r.ok ? `${r.data.delegated} item(s) delegated` : r.error.message, r.ok);
    });

  const btn = "rounded border px-2 py-0.5 text-xs disabled:opacity-40";
  const none = selected.size === 0 || busy;
  const messageLine = message && (
    <p role={message.ok ? "status" : "alert"} className={message.ok ? "text-emerald-800" : "text-red-700"} data-testid="certify-message">
      {message.text}
    </p>
  );
  if (rows.length === 0) {
    return (
      <div className="flex flex-col gap-3">
        {messageLine}
        {empty}
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-3">
      {!frozen && (
        <div className="flex flex-col gap-2 rounded border border-slate-200 bg-white p-3" data-testid="decision-bar">
          <label className="flex flex-col gap-1">
            <span className="text-xs font-medium text-slate-600">Justification (recorded with every decision you make below; a rejection's reason)</span>
            <textarea value={justification} onChange={(e) => setJustification(e.target.value)} rows={2} maxLength={2000} aria-label="Justification" className="rounded border border-slate-300 px-2 py-1" placeholder="e.g. Reviewed with the team lead: still needed for the order export" />
          </label>
          <div className="flex flex-wrap items-center gap-2">
            <span className="text-sm text-slate-600" data-testid="selected-count">
              {selected.size} selected
            </span>
            <button type="button" disabled={none} onClick={() => decideSelected("keep")} className={`${btn} border-emerald-600 text-emerald-800`}>
              Keep selected
            </button>
            <button type="button" disabled={none} onClick={() => decideSelected("revoke")} className={`${btn} border-red-600 text-red-800`}>
              Revoke selected
            </button>
            <label className="ml-4 flex items-center gap-1 text-sm">
              Delegate to
              <select value={delegateTo} onChange={(e) => setDelegateTo(e.target.value)} aria-label="Delegate to" className="rounded border border-slate-300 px-1 py-0.5">
                <option value="">choose a reviewer…</option>
                {delegates.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.label}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" disabled={none || !delegateTo} onClick={delegateSelected} className={`${btn} border-slate-500`}>
              Delegate selected
            </button>
          </div>
          {messageLine}
        </div>
      )}
      <div className="flex items-center gap-2 text-sm">
        Group by
        {(["person", "api"] as const).map((g) => (
          <button key={g} type="button" aria-pressed={groupBy === g} onClick={() => patch({ groupBy: g })} className={`${btn} ${groupBy === g ? "border-slate-900 bg-slate-900 text-white" : "border-slate-300"}`}>
            {g === "person" ? "Person" : "API"}
          </button>
        ))}
      </div>
      <div className="overflow-x-auto rounded border border-slate-200 bg-white">
        <table className="w-full text-left" data-testid="certification-table">
          <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase text-slate-500">
            <tr>
              <th className="w-8 px-3 py-2">
                <input type="checkbox" aria-label="Select all on this page" disabled={frozen || open.length === 0} checked={open.length > 0 && open.every((r) => selected.has(r.id))} onChange={(e) => toggle(open.map((r) => r.id), e.target.checked)} />
              </th>
              <th className="px-3 py-2">{groupBy === "person" ? "API · scope" : "Principal · scope"}</th>
              <th className="px-3 py-2">Environment</th>
              <th className="px-3 py-2">Last used</th>
              <th className="px-3 py-2">Open findings</th>
              <th className="px-3 py-2">Decision</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <Fragment key={r.id}>
                {(i === 0 || rows[i - 1].groupKey !== r.groupKey) && (
                  <tr className="border-b border-slate-200 bg-slate-100" data-testid="group-row">
                    <td className="px-3 py-1.5">
                      {(groups.get(r.groupKey)?.length ?? 0) > 0 && !frozen && (
                        <input type="checkbox" aria-label={`Select group ${r.groupLabel}`} checked={(groups.get(r.groupKey) ?? []).every((id) => selected.has(id))} onChange={(e) => toggle(groups.get(r.groupKey) ?? [], e.target.checked)} />
                      )}
                    </td>
                    <td colSpan={5} className="px-3 py-1.5 font-medium">
                      {r.groupLabel}
                    </td>
                  </tr>
                )}
                <tr className="border-b border-slate-100" data-item-id={r.id} data-testid="item-row">
                  <td className="px-3 py-2">
                    {!r.decision && !r.proposal && !frozen && <input type="checkbox" aria-label={`Select ${r.principalName} ${r.scopeName}`} checked={selected.has(r.id)} onChange={(e) => toggle([r.id], e.target.checked)} />}
                  </td>
                  <td className="px-3 py-2">
                    <div className="font-medium">{groupBy === "person" ? r.apiName : `${r.principalName} (${r.principalKind.replace("_", " ")})`}</div>
                    <div className="font-mono text-xs text-slate-600">
                      {r.scopeName} · {r.scopeLevel}
                    </div>
                    {r.source && SOURCE_NOTE[r.source] && (
                      <div className="text-xs text-amber-700">
                        {SOURCE_NOTE[r.source]}
                        {r.delegatedFrom ? ` by ${r.delegatedFrom}` : ""}
                      </div>
                    )}
                    {!r.source && r.proposal && !r.decision ? <div className="text-xs text-amber-700">{OWNER_CONFIRM_NOTE}</div> : null}
                    {r.lastRejection && !r.decision ? (
                      <div className="text-xs text-slate-600" data-testid="last-rejection">
                        Last proposal rejected by {r.lastRejection.by}: “{r.lastRejection.note}”
                      </div>
                    ) : null}
                  </td>
                  <td className="px-3 py-2">{r.environmentName}</td>
                  <td className="px-3 py-2">{when(r.lastUsedAt)}</td>
                  <td className="px-3 py-2 text-xs">{r.openFindings.length ? r.openFindings.map((f) => `${f.rule} (${f.severity})`).join(", ") : "—"}</td>
                  <td className="px-3 py-2">
                    {r.decision ? (
                      <span data-testid="item-decision">
                        {r.decision}
                        {r.enforcement && r.decision !== "keep" ? <span className="ml-1 text-xs text-slate-500">· {r.enforcement === "applied" ? "enforced" : r.enforcement}</span> : null}
                        {r.confirmedBy ? <span className="ml-1 text-xs text-slate-500">· confirmed by {r.confirmedBy}</span> : null}
                      </span>
                    ) : r.proposal ? (
                      <ProposalCell proposal={r.proposal} frozen={frozen} busy={busy} onConfirm={() => confirmProposal(r.proposal!.decisionId)} onReject={() => rejectProposal(r.proposal!.decisionId)} />
                    ) : frozen ? (
                      "—"
                    ) : (
                      <div className="flex gap-1">
                        <button type="button" disabled={busy} onClick={() => decideOne(r.id, "keep")} className={`${btn} border-emerald-600 text-emerald-800`}>
                          Keep
                        </button>
                        <button type="button" disabled={busy} onClick={() => decideOne(r.id, "revoke")} className={`${btn} border-red-600 text-red-800`}>
                          Revoke
                        </button>
                        {r.scopesOnApi.length > 1 ? (
                          <button type="button" disabled={busy} aria-expanded={reducing === r.id} onClick={() => setReducing(reducing === r.id ? null : r.id)} title="Choose which of this principal's scopes on the API to keep; the rest are revoked" className={`${btn} border-amber-600 text-amber-800`}>
                            Reduce…
                          </button>
                        ) : null}
                      </div>
                    )}
                  </td>
                </tr>
                {reducing === r.id && !r.decision && !r.proposal && !frozen ? (
                  <tr className="border-b border-slate-100">
                    <td />
                    <td colSpan={5} className="px-3 py-2">
                      <ReducePicker scopes={r.scopesOnApi} itemScopeName={r.scopeName} windowDays={r.windowDays} busy={busy} onReduce={(keep) => decideOne(r.id, "reduce", keep)} onCancel={() => setReducing(null)} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
