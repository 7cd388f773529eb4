"use client";
import { useImperativeHandle, useState } from "react";
import { approveAction, confirmAction, reduceAction, retryAction, revokeAction } from "@/app/(dashboard)/queues/actions";
import { Badge, levelTone } from "@/components/badge";
import { words } from "@/components/format";
import { DailyUsageChart } from "@/components/charts/daily-usage-chart";
import type { ActionResult } from "@/lib/action";
import type { DecisionResult } from "@/lib/review";
import { describeActionFailure } from "./action-failure";
import { ApproveForm, ReduceForm } from "./decision-forms";
import { EnforcementBadge } from "./enforcement-badge";
import { stateKey, type DecisionStateView } from "./use-decision-states";
import { useFindingDetail, type FindingDetailView } from "./use-finding-detail";
import type { UndoEntry } from "./use-undo-decisions";

const day = (d: string | null | undefined) => (d ? d.slice(0, 10) : "never");

export type PanelMode = "view" | "approve" | "reduce";

/** What the queue's shortcuts may ask of the panel ("r" revokes what the panel shows). */
export interface FindingPanelHandle {
  revoke: () => void;
}

type Send = () => Promise<ActionResult<DecisionResult>>;

/**
 * Evidence and the decisions for one finding. Every decision names the finding
 * the panel loaded and shows. Approve, revoke and reduce are handed to the
 * queue's undo window (`schedule`): nothing is sent for a few seconds and Undo
 * cancels. The decision state sits at the top, where the eye is, and the panel
 * reloads when the queue sees that state change (a delivery, a second reviewer).
 */
export function FindingPanel({
  ref,
  findingId,
  mode,
  setMode,
  state,
  waiting,
  refusal,
  schedule,
  onUndo,
  onDecided,
  onConflict,
  version,
}: {
  ref?: React.Ref<FindingPanelHandle>;
  findingId: string;
  mode: PanelMode;
  setMode: (m: PanelMode) => void;
  /** The queue's view of this finding's latest decision (polled), so the panel reloads when it changes. */
  state: DecisionStateView | undefined;
  /** A decision on this finding in its undo window. */
  waiting: UndoEntry | undefined;
  /** Why the last decision sent for this finding was refused. */
  refusal: string | null;
  schedule: (findingId: string, label: string, send: Send) => void;
  onUndo: (findingId: string) => void;
  /** Tells the queue what was decided (its row shows the state). */
  onDecided: (d: DecisionResult) => void;
  /** A decision was refused as a conflict (someone else acted first): the queue reloads its rows too. */
  onConflict: () => void;
  /** Bumped by the queue after a decision made outside the panel, so the panel reloads. */
  version: number;
}) {
  const [reload, setReload] = useState(0);
  const loaded = useFindingDetail(findingId, `${version}:${reload}:${stateKey(state)}`);
  // A refused confirm is shown inside the panel, which stays (and reloads on a conflict).
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const detail = loaded?.ok ? loaded.data : null;
  const proposed = detail?.decisions.some((d) => d.awaitingConfirmation) ?? false;
  const open = detail !== null && detail.status === "open" && !proposed && !state && detail.viewer.canDecide && !waiting;

  const confirm = async (decisionId: string) => {
    setBusy(true);
    const r = await confirmAction({ decisionId });
    setBusy(false);
    if (!r.ok) {
      const failure = describeActionFailure(r.error);
      setError(failure.message);
      if (failure.reload) {
        setReload((n) => n + 1);
        onConflict();
      }
      return;
    }
    setError(null);
    onDecided(r.data);
  };
  const decide = (verb: string, send: Send) => {
    if (!detail || !open) return;
    setError(null);
    setMode("view");
    schedule(detail.id, `${verb} ${detail.grant.principal.name} · ${detail.grant.scope.name}`, send);
  };
  const revoke = () => decide("Revoke", () => revokeAction({ findingId }));
  useImperativeHandle(ref, () => ({ revoke }));

  if (loaded && !loaded.ok) return <aside className="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{loaded.error.message}</aside>;
  if (!detail) return <aside className="rounded border border-slate-200 bg-white p-3 text-sm text-slate-600">Loading…</aside>;

  const message = error ?? refusal;
  return (
    <aside className="space-y-3 rounded border border-slate-200 bg-white p-3 text-sm" data-testid="finding-panel" aria-label="Finding detail">
      <section aria-label="Decision" data-testid="panel-decision" className="space-y-1">
        {waiting ? (
          <p className="flex items-center gap-2" data-testid="panel-undo">
            <Badge tone="info">{waiting.sending ? `${waiting.label}: sending…` : `${waiting.label}: in undo window`}</Badge>
            {waiting.sending ? null : (
              <button type="button" className="rounded border border-slate-300 px-1.5 text-xs" onClick={() => onUndo(findingId)}>
                Undo
              </button>
            )}
          </p>
        ) : null}
        {detail.decisions.length ? (
          <ul className="space-y-1">
            {detail.decisions.map((d) => (
              <li key={d.decisionId}>
                <EnforcementBadge state={d} onRetry={() => void retryAction({ decisionId: d.decisionId }).then(() => setReload((n) => n + 1))} />{" "}
                {d.awaitingConfirmation || d.confirmer ? "proposed by" : "by"} {d.decider}
                {d.confirmer ? `, confirmed by ${d.confirmer}` : ""}
                {d.mayConfirm ? (
                  <button type="button" disabled={busy} className="ml-2 rounded border border-slate-300 px-1.5 text-xs" onClick={() => void confirm(d.decisionId)}>
                    Confirm as second reviewer
                  </button>
                ) : null}
                {d.waiting ? (
                  <p className="text-amber-800" data-testid="waiting-for-reviewer">
                    {d.waiting}
                  </p>
                ) : null}
              </li>
            ))}
          </ul>
        ) : waiting ? null : (
          <p className="text-slate-600">No decision yet.</p>
        )}
      </section>
      {message ? (
        <p role="alert" className="rounded border border-red-200 bg-red-50 p-2 text-red-800" data-testid="decision-error">
          {message}
        </p>
      ) : null}
      {!detail.viewer.canDecide && detail.status === "open" ? (
        <p className="rounded border border-slate-200 bg-slate-50 p-2 text-slate-800" data-testid="read-only-notice">
          {detail.viewer.reason}
        </p>
      ) : null}
      {open && mode === "view" ? (
        <div className="flex gap-2">
          <button type="button" className="rounded bg-emerald-700 px-2 py-1 text-white" onClick={() => setMode("approve")}>
            Approve
          </button>
          <button type="button" className="rounded bg-red-700 px-2 py-1 text-white" onClick={revoke}>
            Revoke
          </button>
          {detail.reduce.offered ? (
            <button type="button" className="rounded bg-amber-700 px-2 py-1 text-white" onClick={() => setMode("reduce")}>
              Reduce
            </button>
          ) : null}
        </div>
      ) : null}
      {open && mode === "approve" ? (
        <ApproveForm findingId={detail.id} busy={busy} onCancel={() => setMode("view")} onSubmit={(input) => decide("Approve", () => approveAction({ findingId, ...input }))} />
      ) : null}
      {open && mode === "reduce" && detail.reduce.offered ? (
        <ReduceForm scopes={detail.scopesOnApi} initialKeep={detail.reduce.keepScopeIds} busy={busy} onCancel={() => setMode("view")} onSubmit={(keepScopeIds) => decide("Reduce", () => reduceAction({ findingId, keepScopeIds }))} />
      ) : null}
      {detail.needsSecondReviewer && open ? <p className="text-xs text-amber-800">Two-person rule: a second reviewer must confirm this decision.</p> : null}
      <Evidence detail={detail} />
    </aside>
  );
}

/** Who holds what, how it was used, and why it was flagged. */
function Evidence({ detail }: { detail: FindingDetailView }) {
  const g = detail.grant;
  return (
    <>
      <div>
        <div className="flex items-center gap-2">
          <h2 className="font-semibold">{g.principal.name}</h2>
          <Badge tone={levelTone(g.scope.level)}>{g.scope.name}</Badge>
          <Badge>{g.environment.name}</Badge>
        </div>
        <p className="mt-1 text-slate-700">{String(detail.evidence.reason ?? detail.suggestion)}</p>
        <p className="text-slate-600">Suggestion: {detail.suggestion}</p>
      </div>
      <dl className="grid grid-cols-[8rem_1fr] gap-y-0.5">
        <dt className="text-slate-600">Last used</dt>
        <dd>{day(g.lastUsedAt)}</dd>
        <dt className="text-slate-600">Granted</dt>
        <dd>
          {day(g.grantedAt)}
          {g.grantedBy ? ` by ${g.grantedBy}` : ""}
        </dd>
        <dt className="text-slate-600">Principal</dt>
        <dd>
          {words(g.principal.kind)} · {g.principal.status}
        </dd>
        <dt className="text-slate-600">Risk</dt>
        <dd>
          {detail.riskScore} ({detail.severity})
        </dd>
      </dl>
      <div>
        <h3 className="mb-1 font-medium">
          Scopes on {g.api.name}: used vs granted ({detail.windowDays}-day window)
        </h3>
        <ul className="space-y-0.5" data-testid="scopes-used">
          {detail.scopesOnApi.map((s) => (
            <li key={s.scopeId} className="flex items-center gap-2">
              <Badge tone={s.usedInWindow ? "good" : "warn"}>{s.usedInWindow ? "used" : "unused"}</Badge>
              <span>{s.name}</span>
              {s.requiredWith.length ? <span className="text-xs text-slate-600">required together with {s.requiredWith.join(" AND ")}</span> : null}
              <span className="text-slate-600">last used {day(s.lastUsedAt)}</span>
            </li>
          ))}
        </ul>
      </div>
      <DailyUsageChart data={detail.usage} label="Requests per day, last 90 days" height={140} />
    </>
  );
}
