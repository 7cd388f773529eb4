"use client";
import { useRouter } from "next/navigation";
import { Fragment, useMemo, useState, useTransition } from "react";
import { bulkCertifyAction, certifyAction, confirmProposalAction, delegateAction, rejectProposalAction } from "@/app/(dashboard)/certifications/actions";
import { isRisky, recommend, type CertificationChoice } from "@/lib/campaigns/recommend";
import type { MyItem } from "@/lib/campaigns/my-items";
import { useSearchParamsPatch } from "@/components/data-table/use-search-params-patch";
import { day, words } from "@/components/format";
import { CertificationBar, type CertificationProgress } from "./certification-bar";
import { ProposalCell } from "./proposal-cell";
import { ReducePicker } from "./reduce-picker";
import { RecommendationChip } from "./recommendation-chip";

const DONE = { keep: "kept", revoke: "revoked", reduce: "reduced" } as const;
const PROPOSED = "it applies once another reviewer of the item or the campaign owner confirms it (two-person rule)";

/** Why an item is on the caller's list, when it is not the plain reviewer rule: said once above the table, not on every row. */
const SOURCE_NOTE: Record<string, string> = {
  owner_fallback: "had no eligible reviewer: you review them as the campaign owner",
  delegated: "were delegated to you",
  fallback_round: "were re-issued to you in the fallback round",
  escalated: "were escalated to you (overdue)",
};
const OWNER_CONFIRM_NOTE = "await your confirmation as campaign owner (second reviewer under the two-person rule)";

const btn = "rounded border px-2 py-0.5 text-xs disabled:opacity-40";

/**
 * The reviewer's list: rows come from the server already filtered, grouped
 * (the sort order) and paginated; this component adds selection, a note per
 * row (required to keep an item with open findings), a recommendation per row
 * that one click accepts, per-item and bulk decisions (reduce with a scope
 * picker), confirming or rejecting proposals under the two-person rule,
 * delegation, and the sticky progress and sign-off bar.
 */
export function CertificationTable({
  rows,
  groupBy,
  frozen,
  delegates,
  progress,
  empty,
}: {
  rows: MyItem[];
  groupBy: "person" | "api";
  frozen: boolean;
  delegates: { id: string; label: string }[];
  progress: CertificationProgress;
  /** Shown when no row matches; the last decision's message stays in the bar (a confirmed row leaves the "awaiting" list). */
  empty: React.ReactNode;
}) {
  const router = useRouter();
  const { patch } = useSearchParamsPatch();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
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
  const sources = useMemo(() => {
    const m = new Map<string, number>();
    for (const r of rows) {
      const key = r.source && SOURCE_NOTE[r.source] ? r.source : !r.source && r.proposal && !r.decision ? "owner_confirm" : null;
      if (key && !r.decision) m.set(key, (m.get(key) ?? 0) + 1);
    }
    return m;
  }, [rows]);

  const toggle = (ids: string[], on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      for (const id of ids) if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const note = (id: string) => (notes[id] ?? "").trim();
  const setRowError = (id: string, text: string | null) =>
    setRowErrors((e) => {
      const next = { ...e };
      if (text) next[id] = text;
      else delete next[id];
      return next;
    });
  const clearRows = (ids: string[]) => {
    setNotes((n) => Object.fromEntries(Object.entries(n).filter(([k]) => !ids.includes(k))));
    setRowErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !ids.includes(k))));
  };

  const finish = (text: string, ok: boolean) => {
    setMessage({ ok, text });
    if (ok) {
      setSelected(new Set());
      router.refresh();
    }
  };

  const decideOne = (r: MyItem, decision: CertificationChoice, opts: { keepScopeIds?: string[]; accept?: boolean } = {}) => {
    const text = note(r.id);
    if (decision === "keep" && isRisky(r.openFindings) && !text) {
      setRowError(r.id, "Write a note: keeping an item with open findings needs one.");
      document.getElementById(`note-${r.id}`)?.focus();
      return;
    }
    start(async () => {
      const res = await certifyAction({ itemId: r.id, decision, ...(text ? { justification: text } : {}), ...(opts.keepScopeIds ? { keepScopeIds: opts.keepScopeIds } : {}), ...(opts.accept ? { acceptRecommendation: true } : {}) });
      if (res.ok) {
        setReducing(null);
        clearRows([r.id]);
      } else setRowError(r.id, res.error.message);
      finish(res.ok ? (res.data.awaitingConfirmation ? `${decision[0].toUpperCase()}${decision.slice(1)} proposed: ${PROPOSED}` : `Item ${DONE[decision]}`) : res.error.message, res.ok);
    });
  };
  const decideSelected = (decision: "keep" | "revoke") =>
    start(async () => {
      const ids = [...selected];
      const withNotes = Object.fromEntries(ids.filter((id) => note(id)).map((id) => [id, note(id)]));
      const r = await bulkCertifyAction({ itemIds: ids, decision, notes: withNotes });
      if (!r.ok) return finish(r.error.message, false);
      const failed = r.data.failed.map((f) => f.message);
      for (const f of r.data.failed) setRowError(f.itemId, f.message);
      clearRows([...r.data.decided, ...r.data.proposed].map((d) => d.itemId));
      const proposed = r.data.proposed.length ? `; ${r.data.proposed.length} proposed, awaiting a 2nd reviewer` : "";
      const notDone = failed.length ? `; ${failed.length} not: ${[...new Set(failed)].join("; ")}` : "";
      finish(`${r.data.decided.length} item(s) decided${proposed}${notDone}`, failed.length === 0 || r.data.decided.length + r.data.proposed.length > 0);
    });
  const confirmProposal = (decisionId: string) =>
    start(async () => {
      const r = await confirmProposalAction({ decisionId });
      finish(r.ok ? "Proposal confirmed and applied" : r.error.message, r.ok);
    });
  const rejectProposal = (r: MyItem) => {
    const reason = note(r.id);
    if (!reason) {
      setRowError(r.id, "Write the reason for rejecting in this row's note.");
      document.getElementById(`note-${r.id}`)?.focus();
      return;
    }
    start(async () => {
      const res = await rejectProposalAction({ decisionId: r.proposal!.decisionId, justification: reason });
      if (res.ok) clearRows([r.id]);
      else setRowError(r.id, res.error.message);
      finish(res.ok ? "Proposal rejected: the item is open again" : res.error.message, res.ok);
    });
  };
  const delegateSelected = () =>
    start(async () => {
      const r = await delegateAction({ itemIds: [...selected], toUserId: delegateTo });
      finish(r.ok ? `${r.data.delegated} item(s) delegated` : r.error.message, r.ok);
    });

  const none = selected.size === 0 || busy;
  const messageLine = message && (
    <p role={message.ok ? "status" : "alert"} className={`basis-full text-sm ${message.ok ? "text-emerald-800" : "text-red-700"}`} data-testid="certify-message">
      {message.text}
    </p>
  );
  if (rows.length === 0) {
    return (
      <div className="flex flex-col gap-3">
        {empty}
        <CertificationBar progress={progress}>{messageLine}</CertificationBar>
      </div>
    );
  }
  const noteInput = (r: MyItem, placeholder: string) => (
    <div className="mt-1 flex flex-col gap-0.5">
      <input
        id={`note-${r.id}`}
        type="text"
        value={notes[r.id] ?? ""}
        maxLength={2000}
        onChange={(e) => {
          setNotes((n) => ({ ...n, [r.id]: e.target.value }));
          if (rowErrors[r.id]) setRowError(r.id, null);
        }}
        aria-label={`Note on ${r.principalName} ${r.scopeName}`}
        aria-invalid={Boolean(rowErrors[r.id])}
        aria-describedby={rowErrors[r.id] ? `note-error-${r.id}` : undefined}
        placeholder={placeholder}
        className={`w-60 rounded border px-2 py-0.5 text-xs ${rowErrors[r.id] ? "border-red-600" : "border-slate-300"}`}
        data-testid="item-note"
      />
      {rowErrors[r.id] ? (
        <span id={`note-error-${r.id}`} role="alert" className="max-w-60 text-xs text-red-700" data-testid="item-note-error">
          {rowErrors[r.id]}
        </span>
      ) : null}
    </div>
  );
  return (
    <div className="flex flex-col gap-3">
      {sources.size > 0 ? (
        <ul className="flex flex-col gap-1 rounded border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="source-notes">
          {[...sources].map(([source, n]) => (
            <li key={source}>
              {n} item(s) on this page {source === "owner_confirm" ? OWNER_CONFIRM_NOTE : SOURCE_NOTE[source]}.
            </li>
          ))}
        </ul>
      ) : null}
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
          <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase text-slate-600">
            <tr>
              <th className="w-8 px-3 py-2">
                <input type="checkbox" aria-label="Select all on this page" disabled={frozen || open.length === 0} checked={open.length > 0 && open.every((r) => selected.has(r.id))} onChange={(e) => toggle(open.map((r) => r.id), e.target.checked)} />
              </th>
              <th className="px-3 py-2">{groupBy === "person" ? "API · scope" : "Principal · scope"}</th>
              <th className="px-3 py-2">Environment</th>
              <th className="px-3 py-2">Last used (UTC)</th>
              <th className="px-3 py-2">Open findings · recommendation</th>
              <th className="px-3 py-2">Decision · note</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => {
              const rec = !r.decision && !r.proposal && !frozen ? recommend(r.openFindings) : null;
              const risky = isRisky(r.openFindings);
              return (
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
                  <tr className="border-b border-slate-100 align-top" data-item-id={r.id} data-testid="item-row">
                    <td className="px-3 py-2">
                      {!r.decision && !r.proposal && !frozen && <input type="checkbox" aria-label={`Select ${r.principalName} ${r.scopeName}`} checked={selected.has(r.id)} onChange={(e) => toggle([r.id], e.target.checked)} />}
                    </td>
                    <td className="px-3 py-2">
                      <div className="font-medium">{groupBy === "person" ? r.apiName : `${r.principalName} (${words(r.principalKind)})`}</div>
                      <div className="font-mono text-xs text-slate-600">
                        {r.scopeName} · {r.scopeLevel}
                      </div>
                      {r.delegatedFrom && !r.decision ? <div className="text-xs text-slate-600">Delegated by {r.delegatedFrom}</div> : null}
                      {r.lastRejection && !r.decision ? (
                        <div className="text-xs text-slate-600" data-testid="last-rejection">
                          Last proposal rejected by {r.lastRejection.by}: “{r.lastRejection.note}”
                        </div>
                      ) : null}
                    </td>
                    <td className="px-3 py-2">{r.environmentName}</td>
                    <td className="px-3 py-2">{day(r.lastUsedAt, "never")}</td>
                    <td className="px-3 py-2 text-xs">
                      <div>{r.openFindings.length ? r.openFindings.map((f) => `${words(f.rule)} (${f.severity})`).join(", ") : "—"}</div>
                      {rec ? <RecommendationChip recommendation={rec} row={r} busy={busy} onAccept={() => decideOne(r, rec.decision, { accept: true })} /> : null}
                    </td>
                    <td className="px-3 py-2">
                      {r.decision ? (
                        <span data-testid="item-decision">
                          {r.decision}
                          {r.enforcement && r.decision !== "keep" ? <span className="ml-1 text-xs text-slate-600">· {r.enforcement === "applied" ? "enforced" : r.enforcement}</span> : null}
                          {r.confirmedBy ? <span className="ml-1 text-xs text-slate-600">· confirmed by {r.confirmedBy}</span> : null}
                          {r.justification ? <span className="block text-xs text-slate-600">“{r.justification}”</span> : null}
                        </span>
                      ) : r.proposal ? (
                        <>
                          <ProposalCell proposal={r.proposal} frozen={frozen} busy={busy} onConfirm={() => confirmProposal(r.proposal!.decisionId)} onReject={() => rejectProposal(r)} />
                          {!frozen && r.proposal.canConfirm && !r.proposal.mine ? noteInput(r, "Reason, if you reject") : null}
                        </>
                      ) : frozen ? (
                        "—"
                      ) : (
                        <>
                          <div className="flex gap-1">
                            <button type="button" disabled={busy} onClick={() => decideOne(r, "keep")} className={`${btn} border-emerald-600 text-emerald-800`}>
                              Keep
                            </button>
                            <button type="button" disabled={busy} onClick={() => decideOne(r, "revoke")} className={`${btn} border-red-600 text-red-800`}>
                              Revoke
                            </button>
                            {r.scopesOnApi.length > 1 ? (
                              <button type="button" disabled={busy} aria-expanded={reducing === r.id} onClick={() => setReducing(reducing === r.id ? null : r.id)} title="Choose which of this principal's scopes on the API to keep; the rest are revoked" className={`${btn} border-amber-600 text-amber-800`}>
                                Reduce…
                              </button>
                            ) : null}
                          </div>
                          {noteInput(r, risky ? "Note (required to keep: open findings)" : "Note (optional)")}
                        </>
                      )}
                    </td>
                  </tr>
                  {reducing === r.id && !r.decision && !r.proposal && !frozen ? (
                    <tr className="border-b border-slate-100">
                      <td />
                      <td colSpan={5} className="px-3 py-2">
                        <ReducePicker scopes={r.scopesOnApi} itemScopeName={r.scopeName} windowDays={r.windowDays} busy={busy} onReduce={(keep) => decideOne(r, "reduce", { keepScopeIds: keep })} onCancel={() => setReducing(null)} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
      <CertificationBar progress={progress}>
        {!frozen ? (
          <div className="flex flex-wrap items-center gap-2" data-testid="decision-bar">
            <span className="text-sm text-slate-700" data-testid="selected-count">
              {selected.size} selected
            </span>
            <button type="button" disabled={none} onClick={() => decideSelected("keep")} className={`${btn} border-emerald-600 text-emerald-800`} title="Each item keeps its own note; an item with open findings and no note is not kept">
              Keep selected
            </button>
            <button type="button" disabled={none} onClick={() => decideSelected("revoke")} className={`${btn} border-red-600 text-red-800`}>
              Revoke selected
            </button>
            <label className="ml-2 flex items-center gap-1 text-sm">
              Delegate to
              <select value={delegateTo} onChange={(e) => setDelegateTo(e.target.value)} aria-label="Delegate to" className="max-w-48 rounded border border-slate-300 px-1 py-0.5">
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
        ) : null}
        {messageLine}
      </CertificationBar>
    </div>
  );
}
