"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { startTransition, useActionState, useEffect, useState } from "react";
import { createCampaignAction } from "@/app/(dashboard)/campaigns/actions";

type Option = { id: string; label: string };
type State = Awaited<ReturnType<typeof createCampaignAction>>;

const input = "rounded border border-slate-300 px-2 py-1";

function FieldError({ state, field }: { state: State; field: string }) {
  if (!state || state.ok || state.error.field !== field) return null;
  return (
    <span role="alert" className="text-xs text-red-700" data-testid={`error-${field}`}>
      {state.error.message}
    </span>
  );
}

function Multi({ name, label, options, hint }: { name: string; label: string; options: Option[]; hint: string }) {
  return (
    <label className="flex flex-col gap-1">
      <span className="text-xs font-medium text-slate-600">{label}</span>
      <select name={name} multiple size={5} aria-label={label} className={`${input} min-w-52`}>
        {options.map((o) => (
          <option key={o.id} value={o.id}>
            {o.label}
          </option>
        ))}
      </select>
      <span className="text-xs text-slate-500">{hint}</span>
    </label>
  );
}

/** The admin's "new campaign" form; the lib validates every field again and names the one it refuses. */
export function CreateCampaignForm({ options }: { options: { apis: Option[]; environments: Option[]; teams: Option[]; certifiers: Option[] } }) {
  const [state, formAction, pending] = useActionState(createCampaignAction, null);
  const [rule, setRule] = useState("manager");
  const router = useRouter();
  // "Create draft" opens the draft: its page shows the launch preview.
  const createdId = state?.ok ? state.data.id : null;
  useEffect(() => {
    if (createdId) router.push(`/campaigns/${createdId}`);
  }, [createdId, router]);
  return (
    <section aria-labelledby="new-campaign" className="rounded border border-slate-200 bg-white p-4">
      <h2 id="new-campaign" className="mb-3 font-semibold">
        New campaign
      </h2>
      <form
        // Submitted by hand rather than with `action=`: React resets a form after an action, and a
        // refused field should keep what the admin typed.
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          startTransition(() => formAction(data));
        }}
        className="flex flex-col gap-4"
        data-testid="create-campaign-form"
      >
        <div className="flex flex-wrap gap-4">
          <label className="flex flex-col gap-1">
            <span className="text-xs font-medium text-slate-600">Name</span>
            <input name="name" required minLength={3} maxLength={120} placeholder="Checkout access review" className={input} />
            <FieldError state={state} field="name" />
          </label>
          <label className="flex flex-col gap-1">
            <span className="text-xs font-medium text-slate-600">Period</span>
            <input name="period" required placeholder="2026-Q4" className={input} />
            <FieldError state={state} field="period" />
          </label>
          <label className="flex flex-col gap-1">
            <span className="text-xs font-medium text-slate-600">Due date</span>
            <input name="dueAt" type="date" required className={input} />
            <FieldError state={state} field="dueAt" />
          </label>
          <label className="flex flex-col gap-1">
            <span className="text-xs font-medium text-slate-600">Recurrence</span>
            <select name="recurrence" className={input} defaultValue="none">
              <option value="none">Once</option>
              <option value="quarterly">Every quarter</option>
            </select>
          </label>
        </div>
        <fieldset className="flex flex-wrap gap-4">
          <legend className="mb-1 text-sm font-medium">Scope (nothing selected = all)</legend>
          <Multi name="teamIds" label="Teams" options={options.teams} hint="The principal's team" />
          <Multi name="environmentIds" label="Environments" options={options.environments} hint="Ctrl/⌘-click for several" />
          <Multi name="apiIds" label="APIs" options={options.apis} hint="Ctrl/⌘-click for several" />
        </fieldset>
        <FieldError state={state} field="teamIds" />
        <FieldError state={state} field="environmentIds" />
        <FieldError state={state} field="apiIds" />
        <div className="flex flex-wrap gap-4">
          <label className="flex flex-col gap-1">
            <span className="text-xs font-medium text-slate-600">Who reviews each item</span>
            <select name="reviewerRule" value={rule} onChange={(e) => setRule(e.target.value)} className={input}>
              <option value="manager">The principal&apos;s manager</option>
              <option value="owning_team">The API&apos;s owning team</option>
              <option value="named">Named reviewers</option>
            </select>
            <span className="text-xs text-slate-500">Items nobody eligible can review go to you (the owner).</span>
          </label>
          {rule === "named" && <Multi name="namedReviewerIds" label="Named reviewers" options={options.certifiers} hint="Managers and reviewers" />}
          <FieldError state={state} field="namedReviewerIds" />
          <label className="flex flex-col gap-1">
            <span className="text-xs font-medium text-slate-600">Unreviewed at close</span>
            <select name="closePolicy" className={input} defaultValue="revoke">
              <option value="revoke">Revoke</option>
              <option value="keep_and_flag">Keep and flag</option>
            </select>
          </label>
          <label className="flex flex-col gap-1">
            <span className="text-xs font-medium text-slate-600">Fallback reviewer</span>
            <select name="fallbackReviewerId" className={input} defaultValue="">
              <option value="">None (close policy applies at the due date)</option>
              {options.certifiers.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.label}
                </option>
              ))}
            </select>
            <FieldError state={state} field="fallbackReviewerId" />
          </label>
          <label className="flex flex-col gap-1">
            <span className="text-xs font-medium text-slate-600">Fallback round (days)</span>
            <input name="fallbackDays" type="number" min={0} max={30} defaultValue={3} className={`${input} w-24`} />
          </label>
        </div>
        <div className="flex items-center gap-3">
          <button type="submit" disabled={pending} className="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-800 disabled:opacity-60">
            {pending ? "Creating…" : "Create draft"}
          </button>
          {state && !state.ok && !state.error.field && (
            <p role="alert" className="text-red-700">
              {state.error.message}
            </p>
          )}
          {state?.ok && (
            <p role="status" className="text-emerald-800">
              Draft “{state.data.name}” created, opening it… <Link href={`/campaigns/${state.data.id}`} className="underline">Open the draft</Link>
            </p>
          )}
        </div>
      </form>
    </section>
  );
}
