"use client";
import { useRouter } from "next/navigation";
import { useState, type ReactNode } from "react";

/** What every import's dry run answers with (lib/access-import, lib/discovery/openapi). */
export interface ImportPlan {
  empty: boolean;
  planHash: string;
  findingsOpened?: number;
}

/**
 * The upload flow both imports share: pick a file, the server computes the plan
 * (nothing written), the admin reads it, and Apply sends the same file with the
 * plan's hash, so a plan gone stale in the meantime is refused (409) and dropped.
 * Each import brings its endpoint and parameters, its extra inputs, how it shows a
 * plan, and what it says once applied.
 */
export function PlanUpload<P extends ImportPlan>(props: {
  id: string;
  title: string;
  testId: string;
  fileLabel: string;
  /** What the file picker offers (default: JSON and YAML). */
  accept?: string;
  /** Several files at once (each sent as its own `file` field). */
  multiple?: boolean;
  endpoint: string;
  /** Query parameters for a dry run (`plan` null) or for applying `plan`; planHash and dryRun are added here. */
  params: (plan: P | null) => Record<string, string>;
  checkLabel: string;
  /** Inputs next to the file picker (e.g. the environment); `ready` false keeps the check button disabled. */
  controls?: ReactNode;
  ready?: boolean;
  planTestId: string;
  renderPlan: (plan: P) => ReactNode;
  /** Extra conditions before Apply is enabled (e.g. a confirmation ticked). */
  canApply?: (plan: P) => boolean;
  onPlan?: (plan: P) => void;
  appliedMessage: (result: P) => string;
}) {
  const router = useRouter();
  const [files, setFiles] = useState<File[]>([]);
  const [plan, setPlan] = useState<P | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);

  async function send(dryRun: boolean) {
    if (files.length === 0) return;
    setBusy(true);
    setError(null);
    try {
      const form = new FormData();
      for (const f of files) form.append("file", f);
      const q = new URLSearchParams({ ...props.params(dryRun ? null : plan), ...(dryRun ? { dryRun: "1" } : { planHash: plan!.planHash }) });
      const res = await fetch(`${props.endpoint}?${q}`, { method: "POST", body: form });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        setError(body?.error?.message ?? `Import failed (${res.status})`);
        if (res.status === 409) setPlan(null);
        return;
      }
      if (dryRun) {
        setPlan(body as P);
        props.onPlan?.(body as P);
      } else {
        setPlan(null);
        setFiles([]);
        setDone(props.appliedMessage(body as P));
        router.refresh();
      }
    } catch {
      setError("Network error: the import was not sent");
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby={props.id} className="rounded border border-slate-200 bg-white p-3" data-testid={props.testId}>
      <h2 id={props.id} className="mb-2 font-medium">{props.title}</h2>
      <div className="flex flex-wrap items-center gap-2">
        <input
          type="file"
          accept={props.accept ?? ".json,.yaml,.yml,application/json,application/yaml"}
          multiple={props.multiple}
          aria-label={props.fileLabel}
          onChange={(e) => {
            setFiles([...(e.target.files ?? [])]);
            setPlan(null);
            setDone(null);
            setError(null);
          }}
        />
        {props.controls}
        <button type="button" disabled={files.length === 0 || props.ready === false || busy} onClick={() => send(true)} className="rounded bg-slate-800 px-3 py-1 text-white disabled:opacity-50">
          {busy && !plan ? "Checking…" : props.checkLabel}
        </button>
      </div>
      {error ? <p role="alert" className="mt-2 whitespace-pre-wrap text-red-700">{error}</p> : null}
      {done ? <p role="status" className="mt-2 text-emerald-800">{done}</p> : null}
      {plan ? (
        <div className="mt-3 space-y-3" data-testid={props.planTestId}>
          {props.renderPlan(plan)}
          <div className="flex gap-2">
            <button type="button" disabled={busy || plan.empty || props.canApply?.(plan) === false} onClick={() => send(false)} className="rounded bg-emerald-700 px-3 py-1 text-white disabled:opacity-50">
              {busy ? "Applying…" : "Apply"}
            </button>
            <button type="button" disabled={busy} onClick={() => setPlan(null)} className="rounded border border-slate-300 px-3 py-1">
              Cancel
            </button>
          </div>
        </div>
      ) : null}
    </section>
  );
}
