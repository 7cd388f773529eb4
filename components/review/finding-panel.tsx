"use client";
import { useEffect, useState } from "react";
import { Badge, levelTone } from "@/components/badge";
import { DailyUsageChart } from "@/components/charts/daily-usage-chart";
import type { FindingDetail } from "@/lib/review/detail";
import { describeActionFailure } from "./action-failure";
import { EnforcementBadge } from "./enforcement-badge";
import type { QueueActions } from "./types";

const day = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString().slice(0, 10) : "never");

export type PanelMode = "view" | "approve" | "reduce";

/** Evidence and the three decisions for one finding. */
export function FindingPanel({
  findingId,
  actions,
  mode,
  setMode,
  decide,
  version,
}: {
  findingId: string;
  actions: QueueActions;
  mode: PanelMode;
  setMode: (m: PanelMode) => void;
  decide: (kind: "approve" | "revoke" | "reduce", input: Record<string, unknown>) => Promise<string | null>;
  /** Bumped after a decision so the panel reloads. */
  version: number;
}) {
  const [detail, setDetail] = useState<FindingDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A refused decision is shown inside the panel, which stays (and reloads on a conflict).
  const [actionError, setActionError] = useState<string | null>(null);
  const [justification, setJustification] = useState("");
  const [reReviewAt, setReReviewAt] = useState("");
  const [keep, setKeep] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setError(null);
    void actions.detail(findingId).then((r) => {
      if (!live) return;
      if (r.ok) {
        const d = r.data as FindingDetail;
        setDetail(d);
        setKeep(d.scopesOnApi.filter((s) => s.usedInWindow).map((s) => s.scopeId));
      } else setError(r.error);
    });
    return () => {
      live = false;
    };
  }, [findingId, actions, version]);

  if (error) return <aside className="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{error}</aside>;
  if (!detail) return <aside className="rounded border border-slate-200 bg-white p-3 text-sm text-slate-500">Loading…</aside>;
  const ev = detail.evidence;
  const open = detail.status === "open" && !detail.decisions.some((d) => d.awaitingConfirmation);

  const submit = async (kind: "approve" | "revoke" | "reduce", input: Record<string, unknown>) => {
    setBusy(true);
    const problem = await decide(kind, input);
    setBusy(false);
    setActionError(problem);
    if (!problem) setMode("view");
  };

  return (
    <aside className="space-y-3 rounded border border-slate-200 bg-white p-3 text-sm" data-testid="finding-panel" aria-label="Finding detail">
      {actionError ? (
        <p role="alert" className="rounded border border-red-200 bg-red-50 p-2 text-red-800" data-testid="decision-error">
          {actionError}
        </p>
      ) : null}
      <div>
        <div className="flex items-center gap-2">
          <h2 className="font-semibold">{detail.grant.principal.name}</h2>
          <Badge tone={levelTone(detail.grant.scope.level)}>{detail.grant.scope.name}</Badge>
          <Badge>{detail.grant.environment.name}</Badge>
        </div>
        <p className="mt-1 text-slate-700">{String(ev.reason ?? detail.suggestion)}</p>
        <p className="text-slate-500">Suggestion: {detail.suggestion}</p>
      </div>
      <dl className="grid grid-cols-[8rem_1fr] gap-y-0.5">
        <dt className="text-slate-500">Last used</dt>
        <dd>{day(detail.grant.lastUsedAt)}</dd>
        <dt className="text-slate-500">Granted</dt>
        <dd>
          {day(detail.grant.grantedAt)}
          {detail.grant.grantedBy ? ` by ${detail.grant.grantedBy}` : ""}
        </dd>
        <dt className="text-slate-500">Principal</dt>
        <dd>
          {detail.grant.principal.kind.replace("_", " ")} · {detail.grant.principal.status}
        </dd>
        <dt className="text-slate-500">Risk</dt>
        <dd>
          {detail.riskScore} ({detail.severity})
        </dd>
      </dl>
      <div>
        <h3 className="mb-1 font-medium">Scopes on {detail.grant.api.name}: used vs granted ({detail.windowDays}-day window)</h3>
        <ul className="space-y-0.5" data-testid="scopes-used">
          {detail.scopesOnApi.map((s) => (
            <li key={s.scopeId} className="flex items-center gap-2">
              <Badge tone={s.usedInWindow ? "good" : "warn"}>{s.usedInWindow ? "used" : "unused"}</Badge>
              <span>{s.name}</span>
              {s.requiredWith.length ? <span className="text-xs text-slate-500">required together with {s.requiredWith.join(" AND ")}</span> : null}
              <span className="text-slate-400">last used {day(s.lastUsedAt)}</span>
            </li>
          ))}
        </ul>
      </div>
      <DailyUsageChart data={detail.usage} label="Requests per day, last 90 days" height={140} />
      {detail.decisions.length ? (
        <div>
          <h3 className="mb-1 font-medium">Decisions</h3>
          <ul className="space-y-1">
            {detail.decisions.map((d) => (
              <li key={d.decisionId}>
                <EnforcementBadge state={d} onRetry={() => void actions.retry({ decisionId: d.decisionId })} /> by {d.decider}
                {d.confirmer ? `, confirmed by ${d.confirmer}` : ""}
                {d.awaitingConfirmation ? (
                  <button
                    type="button"
                    className="ml-2 rounded border border-slate-300 px-1.5 text-xs"
                    onClick={() => void actions.confirm({ decisionId: d.decisionId }).then((r) => setActionError(r.ok ? null : describeActionFailure(r).message))}
                  >
                    Confirm as second reviewer
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {open && mode === "view" ? (
        <div className="flex gap-2">
          <button type="button" className="rounded bg-emerald-700 px-2 py-1 text-white" onClick={() => setMode("approve")}>
            Approve
          </button>
          <button type="button" disabled={busy} className="rounded bg-red-700 px-2 py-1 text-white" onClick={() => void submit("revoke", {})}>
            Revoke
          </button>
          {detail.scopesOnApi.length > 1 ? (
            <button type="button" className="rounded bg-amber-600 px-2 py-1 text-white" onClick={() => setMode("reduce")}>
              Reduce
            </button>
          ) : null}
        </div>
      ) : null}
      {open && mode === "approve" ? (
        <form
          className="space-y-2"
          onSubmit={(e) => {
            e.preventDefault();
            void submit("approve", { justification, reReviewAt: reReviewAt || null });
          }}
        >
          <label className="block">
            Justification (required)
            <textarea
              autoFocus
              name="justification"
              value={justification}
              onChange={(e) => setJustification(e.target.value)}
              className="mt-0.5 block w-full rounded border border-slate-300 p-1"
              rows={3}
            />
          </label>
          <label className="block">
            Re-review on (optional)
            <input type="date" name="reReviewAt" value={reReviewAt} onChange={(e) => setReReviewAt(e.target.value)} className="ml-2 rounded border border-slate-300 p-0.5" />
          </label>
          <div className="flex gap-2">
            <button type="submit" disabled={busy} className="rounded bg-emerald-700 px-2 py-1 text-white">
              Approve
            </button>
            <button type="button" onClick={() => setMode("view")} className="rounded border border-slate-300 px-2 py-1">
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      {open && mode === "reduce" ? (
        <form
          className="space-y-2"
          onSubmit={(e) => {
            e.preventDefault();
            void submit("reduce", { keepScopeIds: keep });
          }}
        >
          <fieldset>
            <legend>Keep these scopes (the rest are revoked)</legend>
            {detail.scopesOnApi.map((s) => (
              <label key={s.scopeId} className="flex items-center gap-2">
                <input
                  type="checkbox"
                  name="keep"
                  value={s.scopeId}
                  checked={keep.includes(s.scopeId)}
                  onChange={(e) => setKeep((k) => (e.target.checked ? [...k, s.scopeId] : k.filter((x) => x !== s.scopeId)))}
                />
                {s.name} {s.usedInWindow ? <span className="text-emerald-700">(used)</span> : <span className="text-slate-400">(unused)</span>}
                {s.requiredWith.length ? <span className="text-xs text-slate-500">keep with {s.requiredWith.join(", ")}: an endpoint needs them together</span> : null}
              </label>
            ))}
          </fieldset>
          <div className="flex gap-2">
            <button type="submit" disabled={busy} className="rounded bg-amber-600 px-2 py-1 text-white">
              Reduce
            </button>
            <button type="button" onClick={() => setMode("view")} className="rounded border border-slate-300 px-2 py-1">
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      {detail.needsSecondReviewer && open ? <p className="text-xs text-amber-700">Two-person rule: a second reviewer must confirm this decision.</p> : null}
    </aside>
  );
}
