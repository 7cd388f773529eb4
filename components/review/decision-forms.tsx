"use client";
import { useState } from "react";
import type { FindingDetailView } from "./use-finding-detail";

/** Approve needs a reason; a re-review date is optional. */
export function ApproveForm({ busy, onSubmit, onCancel }: { busy: boolean; onSubmit: (input: { justification: string; reReviewAt: string | null }) => void; onCancel: () => void }) {
  const [justification, setJustification] = useState("");
  const [reReviewAt, setReReviewAt] = useState("");
  return (
    <form
      className="space-y-2"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit({ justification, reReviewAt: reReviewAt || null });
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
      <FormButtons busy={busy} label="Approve" tone="bg-emerald-700" onCancel={onCancel} />
    </form>
  );
}

/** Reduce keeps the checked scopes (by default the ones used in the window) and revokes the rest. */
export function ReduceForm({ scopes, busy, onSubmit, onCancel }: { scopes: FindingDetailView["scopesOnApi"]; busy: boolean; onSubmit: (keepScopeIds: string[]) => void; onCancel: () => void }) {
  const [keep, setKeep] = useState(() => scopes.filter((s) => s.usedInWindow).map((s) => s.scopeId));
  return (
    <form
      className="space-y-2"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(keep);
      }}
    >
      <fieldset>
        <legend>Keep these scopes (the rest are revoked)</legend>
        {scopes.map((s) => (
          <label key={s.scopeId} className="flex items-center gap-2">
            <input
              type="checkbox"
              name="keep"
              value={s.scopeId}
              checked={keep.includes(s.scopeId)}
              onChange={(e) => setKeep((k) => (e.target.checked ? [...k, s.scopeId] : k.filter((x) => x !== s.scopeId)))}
            />
            {s.name} {s.usedInWindow ? <span className="text-emerald-700">(used)</span> : <span className="text-slate-600">(unused)</span>}
            {s.requiredWith.length ? <span className="text-xs text-slate-500">keep with {s.requiredWith.join(", ")}: an endpoint needs them together</span> : null}
          </label>
        ))}
      </fieldset>
      <FormButtons busy={busy} label="Reduce" tone="bg-amber-600" onCancel={onCancel} />
    </form>
  );
}

function FormButtons({ busy, label, tone, onCancel }: { busy: boolean; label: string; tone: string; onCancel: () => void }) {
  return (
    <div className="flex gap-2">
      <button type="submit" disabled={busy} className={`rounded ${tone} px-2 py-1 text-white`}>
        {label}
      </button>
      <button type="button" onClick={onCancel} className="rounded border border-slate-300 px-2 py-1">
        Cancel
      </button>
    </div>
  );
}
