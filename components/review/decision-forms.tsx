"use client";
import { useState } from "react";
import { approveInput } from "@/lib/review/schemas";
import { reduceChoiceError } from "@/lib/review/reduce-plan";
import type { FindingDetailView } from "./use-finding-detail";

/** A refusal of the form's own input, shown beside it (the panel and its evidence stay). */
function FieldError({ id, message }: { id: string; message: string | null }) {
  return message ? (
    <p id={id} role="alert" className="text-red-800" data-testid="decision-error">
      {message}
    </p>
  ) : null;
}

/** Approve needs a reason (checked here with the lib's own schema before anything is sent); a re-review date is optional. */
export function ApproveForm({ findingId, busy, onSubmit, onCancel }: { findingId: string; busy: boolean; onSubmit: (input: { justification: string; reReviewAt: string | null }) => void; onCancel: () => void }) {
  const [justification, setJustification] = useState("");
  const [reReviewAt, setReReviewAt] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  return (
    <form
      className="space-y-2"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const parsed = approveInput.safeParse({ findingId, justification, reReviewAt: reReviewAt || null });
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return setInvalid(`${issue.path[0] === "reReviewAt" ? "Re-review date" : "Justification"}: ${issue.message}`);
        }
        setInvalid(null);
        onSubmit({ justification, reReviewAt: reReviewAt || null });
      }}
    >
      <label className="block">
        Justification (required)
        <textarea
          autoFocus
          name="justification"
          value={justification}
          aria-invalid={invalid ? true : undefined}
          aria-describedby={invalid ? "approve-error" : undefined}
          onChange={(e) => setJustification(e.target.value)}
          className="mt-0.5 block w-full rounded border border-slate-300 p-1"
          rows={3}
        />
      </label>
      <label className="block">
        Re-review on (optional)
        <input type="date" name="reReviewAt" value={reReviewAt} onChange={(e) => setReReviewAt(e.target.value)} className="ml-2 rounded border border-slate-300 p-0.5" />
      </label>
      <FieldError id="approve-error" message={invalid} />
      <FormButtons busy={busy} label="Approve" tone="bg-emerald-700" onCancel={onCancel} />
    </form>
  );
}

/** Reduce keeps the checked scopes (by default the ones used in the window) and revokes the rest; a choice that removes nothing is refused here. */
export function ReduceForm({ scopes, initialKeep, busy, onSubmit, onCancel }: { scopes: FindingDetailView["scopesOnApi"]; initialKeep: string[]; busy: boolean; onSubmit: (keepScopeIds: string[]) => void; onCancel: () => void }) {
  const [keep, setKeep] = useState(initialKeep);
  const [invalid, setInvalid] = useState<string | null>(null);
  return (
    <form
      className="space-y-2"
      onSubmit={(e) => {
        e.preventDefault();
        const why = reduceChoiceError(scopes, keep);
        if (why) return setInvalid(`Not a reduce: ${why}.`);
        setInvalid(null);
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
            {s.name} {s.usedInWindow ? <span className="text-emerald-800">(used)</span> : <span className="text-slate-600">(unused)</span>}
            {s.requiredWith.length ? <span className="text-xs text-slate-600">keep with {s.requiredWith.join(", ")}: an endpoint needs them together</span> : null}
          </label>
        ))}
      </fieldset>
      <FieldError id="reduce-error" message={invalid} />
      <FormButtons busy={busy} label="Reduce" tone="bg-amber-700" onCancel={onCancel} />
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
