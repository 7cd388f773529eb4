"use client";
import { useActionState } from "react";
import { createTokenAction, revokeTokenAction } from "@/app/(dashboard)/settings/tokens/actions";
import { ShownOnceResult } from "@/components/shown-once";

export function CreateTokenForm({ scopes }: { scopes: readonly string[] }) {
  const [state, formAction, pending] = useActionState(createTokenAction, null);
  return (
    <div className="flex flex-col gap-3">
      <form action={formAction} className="flex flex-wrap items-end gap-4 rounded border border-slate-200 bg-white p-3">
        <label className="flex flex-col gap-1">
          <span className="text-xs font-medium text-slate-600">Name</span>
          <input name="name" required maxLength={100} placeholder="proxy-production" className="rounded border border-slate-300 px-2 py-1" />
        </label>
        <fieldset className="flex min-w-0 flex-col gap-1">
          <legend className="text-xs font-medium text-slate-600">Scopes</legend>
          <div className="flex flex-wrap gap-x-3 gap-y-1">
            {scopes.map((s) => (
              <label key={s} className="flex items-center gap-1 font-mono text-xs">
                <input type="checkbox" name="scopes" value={s} /> {s}
              </label>
            ))}
          </div>
        </fieldset>
        <button type="submit" disabled={pending} className="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-800 disabled:opacity-60">
          Create token
        </button>
      </form>
      <ShownOnceResult state={state} testId="new-token" message={(d) => `Token “${d.name}” created. Copy it now: it will not be shown again.`} secret={(d) => d.token} />
    </div>
  );
}

export function RevokeTokenButton({ tokenId, name }: { tokenId: string; name: string }) {
  const [state, formAction, pending] = useActionState(revokeTokenAction, null);
  return (
    <form
      action={formAction}
      onSubmit={(e) => {
        if (!window.confirm(`Revoke token “${name}”? Integrations using it stop working immediately.`)) e.preventDefault();
      }}
    >
      <input type="hidden" name="tokenId" value={tokenId} />
      <button type="submit" disabled={pending} className="rounded border border-red-300 px-2 py-1 text-red-700 hover:bg-red-50">
        Revoke
      </button>
      {state && !state.ok && <span className="ml-2 text-red-700">{state.error.message}</span>}
    </form>
  );
}
