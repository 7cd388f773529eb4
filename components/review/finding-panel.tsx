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
import { useFindingDetail, type FindingDetailView } from "./use-finding-detail";

const day = (d: string | null | undefined) => (d ? d.slice(0, 10) : "never");

export type PanelMode = "view" | "approve" | "reduce";

/** What the queue's shortcuts may ask of the panel ("r" revokes what the panel shows). */
export interface FindingPanelHandle {
  revoke: () => void;
}

/**
 * Evidence and the three decisions for one finding. Every decision names the
 * finding the panel loaded and shows, and goes through the panel's own submit
 * (busy state, refusal shown here, reload): the queue never decides on its behalf.
 */
export function FindingPanel({
  ref,
  findingId,
  mode,
  setMode,
  onDecided,
  onConflict,
  version,
}: {
  ref?: React.Ref<FindingPanelHandle>;
  findingId: string;
  mode: PanelMode;
  setMode: (m: PanelMode) => void;
  /** Tells the queue what was decided (its row shows the state). */
  onDecided: (d: DecisionResult) => void;
  /** A decision was refused as a conflict (someone else acted first): the queue reloads its rows too. */
  onConflict: () => void;
  /** Bumped by the queue after a decision made outside the panel, so the panel reloads. */
  version: number;
}) {
  const [reload, setReload] = useState(0);
  const loaded = useFindingDetail(findingId, version + reload);
  // A refused decision is shown inside the panel, which stays (and reloads on a conflict).
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const detail = loaded?.ok ? loaded.data : null;
  const open = detail !== null && detail.status === "open" && !detail.decisions.some((d) => d.awaitingConfirmation);

  const submit = async (run: () => Promise<ActionResult<DecisionResult>>) => {
    setBusy(true);
    const r = await run();
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
    setMode("view");
    onDecided(r.data);
    setReload((n) => n + 1);
  };
  const revoke = () => {
    if (detail && open && !busy) void submit(() => revokeAction({ findingId: detail.id }));
  };
  useImperativeHandle(ref, () => ({ revoke }));

  if (loaded && !loaded.ok) return <aside className="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{loaded.error.message}</aside>;
  if (!detail) return <aside className="rounded border border-slate-200 bg-white p-3 text-sm text-slate-500">Loading…</aside>;

  return (
    <aside className="space-y-3 rounded border border-slate-200 bg-white p-3 text-sm" data-testid="finding-panel" aria-label="Finding detail">
      <Evidence detail={detail} />
      {detail.decisions.length ? (
        <div>
          <h3 className="mb-1 font-medium">Decisions</h3>
          <ul className="space-y-1">
            {detail.decisions.map((d) => (
              <li key={d.decisionId}>
                <EnforcementBadge state={d} onRetry={() => void retryAction({ decisionId: d.decisionId }).then(() => setReload((n) => n + 1))} /> by {d.decider}
                {d.confirmer ? `, confirmed by ${d.confirmer}` : ""}
                {d.awaitingConfirmation ? (
                  <button type="button" className="ml-2 rounded border border-slate-300 px-1.5 text-xs" onClick={() => void submit(() => confirmAction({ decisionId: d.decisionId }))}>
                    Confirm as second reviewer
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {error ? (
        <p role="alert" className="rounded border border-red-200 bg-red-50 p-2 text-red-800" data-testid="decision-error">
          {error}
        </p>
      ) : null}
      {open && mode === "view" ? (
        <div className="flex gap-2">
          <button type="button" className="rounded bg-emerald-700 px-2 py-1 text-white" onClick={() => setMode("approve")}>
            Approve
          </button>
          <button type="button" disabled={busy} className="rounded bg-red-700 px-2 py-1 text-white" onClick={revoke}>
            Revoke
          </button>
          {detail.scopesOnApi.length > 1 ? (
            <button type="button" className="rounded bg-amber-600 px-2 py-1 text-white" onClick={() => setMode("reduce")}>
              Reduce
            </button>
          ) : null}
        </div>
      ) : null}
      {open && mode === "approve" ? <ApproveForm busy={busy} onCancel={() => setMode("view")} onSubmit={(input) => void submit(() => approveAction({ findingId: detail.id, ...input }))} /> : null}
      {open && mode === "reduce" ? (
        <ReduceForm scopes={detail.scopesOnApi} busy={busy} onCancel={() => setMode("view")} onSubmit={(keepScopeIds) => void submit(() => reduceAction({ findingId: detail.id, keepScopeIds }))} />
      ) : null}
      {detail.needsSecondReviewer && open ? <p className="text-xs text-amber-700">Two-person rule: a second reviewer must confirm this decision.</p> : null}
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
        <p className="text-slate-500">Suggestion: {detail.suggestion}</p>
      </div>
      <dl className="grid grid-cols-[8rem_1fr] gap-y-0.5">
        <dt className="text-slate-500">Last used</dt>
        <dd>{day(g.lastUsedAt)}</dd>
        <dt className="text-slate-500">Granted</dt>
        <dd>
          {day(g.grantedAt)}
          {g.grantedBy ? ` by ${g.grantedBy}` : ""}
        </dd>
        <dt className="text-slate-500">Principal</dt>
        <dd>
          {words(g.principal.kind)} · {g.principal.status}
        </dd>
        <dt className="text-slate-500">Risk</dt>
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
              {s.requiredWith.length ? <span className="text-xs text-slate-500">required together with {s.requiredWith.join(" AND ")}</span> : null}
              <span className="text-slate-600">last used {day(s.lastUsedAt)}</span>
            </li>
          ))}
        </ul>
      </div>
      <DailyUsageChart data={detail.usage} label="Requests per day, last 90 days" height={140} />
    </>
  );
}
