"use client";
import { useActionState, useState } from "react";
import { issueKeyAction, rotateKeyAction } from "@/app/(dashboard)/access/keys/actions";

/** The new key, shown once, with a copy button (the page never shows it again). */
function ShownOnce({ keyText, note }: { keyText: string; note: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div role="status" className="mt-2 rounded border border-amber-300 bg-amber-50 p-2 text-sm">
      <p className="font-medium">{note} Copy it now: it will not be shown again.</p>
      <div className="mt-1 flex items-center gap-2">
        <code data-testid="new-key" className="block break-all rounded bg-white p-1 font-mono text-xs">
          {keyText}
        </code>
        <button
          type="button"
          className="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-white"
          onClick={() => navigator.clipboard?.writeText(keyText).then(() => setCopied(true), () => setCopied(false))}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </div>
  );
}

export function IssueKeyForm({ principalId }: { principalId: string }) {
  const [state, action, pending] = useActionState(issueKeyAction, null);
  return (
    <form action={action} className="flex flex-col gap-1">
      <input type="hidden" name="principalId" value={principalId} />
      <div className="flex items-end gap-2">
        <label className="flex flex-col text-xs text-slate-600">
          Expires in (days, optional)
          <input name="expiresInDays" type="number" min={1} max={366} className="w-28 rounded border border-slate-300 px-1 py-0.5" />
        </label>
        <button type="submit" disabled={pending} className="rounded bg-slate-900 px-2 py-1 text-xs text-white disabled:opacity-60">
          Issue key
        </button>
      </div>
      {state && !state.ok && <p role="alert" className="text-xs text-red-700">{state.error.message}</p>}
      {state?.ok && <ShownOnce keyText={state.data.key} note={`Key ${state.data.prefix}… issued.`} />}
    </form>
  );
}

export function RotateKeyForm({ credentialId, prefix }: { credentialId: string; prefix: string }) {
  const [state, action, pending] = useActionState(rotateKeyAction, null);
  return (
    <form action={action} className="inline-flex flex-col gap-1">
      <input type="hidden" name="credentialId" value={credentialId} />
      <div className="flex items-center gap-1">
        <label className="text-xs text-slate-600">
          Overlap (h)
          <input name="overlapHours" type="number" min={0.01} step="any" max={720} defaultValue={24} aria-label={`Overlap hours for ${prefix}`} className="ml-1 w-16 rounded border border-slate-300 px-1 py-0.5" />
        </label>
        <button type="submit" disabled={pending} className="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50">
          Rotate
        </button>
      </div>
      {state && !state.ok && <p role="alert" className="text-xs text-red-700">{state.error.message}</p>}
      {state?.ok && <ShownOnce keyText={state.data.key} note={`New key ${state.data.prefix}…; the old one works until ${state.data.overlapEndsAt.replace("T", " ").slice(0, 16)} UTC.`} />}
    </form>
  );
}
