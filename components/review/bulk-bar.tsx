"use client";
import { useState } from "react";
import { bulkApproveAction, bulkReduceAction, bulkRevokeAction } from "@/app/(dashboard)/queues/actions";
import type { ActionError } from "@/lib/action";
import type { BulkResult, QueueRow } from "@/lib/review";
import { bulkApproveInput } from "@/lib/review/schemas";
import { ConfirmDialog } from "./confirm-dialog";

type Kind = "approve" | "revoke" | "reduce";
const ASK = {
  revoke: { title: "Revoke", tone: "bg-red-700", what: "Each grant is revoked and the proxies serving its environment refuse it at once." },
  reduce: { title: "Reduce", tone: "bg-amber-700", what: "Each principal keeps the scopes it used in the window; the rest are revoked and the proxies refuse them at once." },
  approve: { title: "Approve", tone: "bg-emerald-700", what: "Each finding is closed as approved with your justification; access stays as it is." },
} as const;

/** "production (12), staging (3)": where the selected findings' grants live. */
export function environmentsOf(rows: Pick<QueueRow, "environment">[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.environment, (counts.get(r.environment) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([env, n]) => `${env} (${n})`).join(", ");
}

/**
 * Decides every selected finding at once, after a confirmation that states how
 * many and in which environments (a bulk decision has no undo window: the
 * dialog is the pause). Reports what was decided and what was refused, and why.
 */
export function BulkBar({
  selected,
  onDone,
  onFailure,
}: {
  /** The selected rows (all on this page). */
  selected: QueueRow[];
  onDone: (result: BulkResult | null, message: string) => void;
  /** What to say when the whole request was refused (a conflict also reloads the queue). */
  onFailure: (error: ActionError) => string;
}) {
  const [justification, setJustification] = useState("");
  const [asking, setAsking] = useState<Kind | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ask = (kind: Kind) => {
    if (kind === "approve") {
      const parsed = bulkApproveInput.safeParse({ findingIds: selected.map((r) => r.id), justification });
      if (!parsed.success) return setInvalid(`Justification: ${parsed.error.issues[0].message}`);
    }
    setInvalid(null);
    setAsking(kind);
  };
  const run = async (kind: Kind) => {
    setAsking(null);
    setBusy(true);
    const findingIds = selected.map((r) => r.id);
    const r =
      kind === "approve" ? await bulkApproveAction({ findingIds, justification }) : kind === "revoke" ? await bulkRevokeAction({ findingIds }) : await bulkReduceAction({ findingIds });
    setBusy(false);
    if (!r.ok) return onDone(null, onFailure(r.error));
    const { decided, failed } = r.data;
    onDone(r.data, `${decided.length} decided` + (failed.length ? `; ${failed.length} not decided: ${failed.map((f) => f.message).join("; ")}` : ""));
  };
  const n = selected.length;
  return (
    <div className="space-y-1" data-testid="bulk-bar">
      <div className="flex flex-wrap items-center gap-2 rounded border border-sky-200 bg-sky-50 p-2 text-sm">
        <span>{n} selected</span>
        <button type="button" disabled={busy} className="rounded bg-red-700 px-2 py-1 text-white" onClick={() => ask("revoke")}>
          Revoke selected
        </button>
        <button type="button" disabled={busy} className="rounded bg-amber-700 px-2 py-1 text-white" onClick={() => ask("reduce")}>
          Reduce selected to used scopes
        </button>
        <input
          aria-label="Justification for bulk approve"
          aria-invalid={invalid ? true : undefined}
          placeholder="Justification to approve selected"
          value={justification}
          onChange={(e) => setJustification(e.target.value)}
          className="w-64 rounded border border-slate-300 px-1 py-0.5"
        />
        <button type="button" disabled={busy} className="rounded bg-emerald-700 px-2 py-1 text-white" onClick={() => ask("approve")}>
          Approve selected
        </button>
      </div>
      {invalid ? (
        <p role="alert" className="text-sm text-red-800">
          {invalid}
        </p>
      ) : null}
      {asking ? (
        <ConfirmDialog title={`${ASK[asking].title} ${n} finding${n === 1 ? "" : "s"}?`} confirmLabel={`${ASK[asking].title} ${n}`} tone={ASK[asking].tone} onConfirm={() => void run(asking)} onCancel={() => setAsking(null)}>
          <p>
            {n} finding{n === 1 ? "" : "s"} in {environmentsOf(selected)}.
          </p>
          <p>{ASK[asking].what}</p>
          <p className="text-slate-600">Bulk decisions have no undo window.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
