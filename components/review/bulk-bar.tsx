"use client";
import { useState } from "react";
import { bulkApproveAction, bulkReduceAction, bulkRevokeAction } from "@/app/(dashboard)/queues/actions";
import type { ActionError } from "@/lib/action";
import type { BulkResult } from "@/lib/review";

/** Decides every selected finding at once; reports what was decided and what was refused, and why. */
export function BulkBar({
  selected,
  onDone,
  onFailure,
}: {
  selected: Set<string>;
  onDone: (result: BulkResult | null, message: string) => void;
  /** What to say when the whole request was refused (a conflict also reloads the queue). */
  onFailure: (error: ActionError) => string;
}) {
  const [justification, setJustification] = useState("");
  const run = async (kind: "approve" | "revoke" | "reduce") => {
    const findingIds = [...selected];
    const r =
      kind === "approve" ? await bulkApproveAction({ findingIds, justification }) : kind === "revoke" ? await bulkRevokeAction({ findingIds }) : await bulkReduceAction({ findingIds });
    if (!r.ok) return onDone(null, onFailure(r.error));
    const { decided, failed } = r.data;
    onDone(r.data, `${decided.length} decided` + (failed.length ? `; ${failed.length} not decided: ${failed.map((f) => f.message).join("; ")}` : ""));
  };
  return (
    <div className="flex flex-wrap items-center gap-2 rounded border border-sky-200 bg-sky-50 p-2 text-sm" data-testid="bulk-bar">
      <span>{selected.size} selected</span>
      <button type="button" className="rounded bg-red-700 px-2 py-1 text-white" onClick={() => void run("revoke")}>
        Revoke selected
      </button>
      <button type="button" className="rounded bg-amber-600 px-2 py-1 text-white" onClick={() => void run("reduce")}>
        Reduce selected to used scopes
      </button>
      <input
        aria-label="Justification for bulk approve"
        placeholder="Justification to approve selected"
        value={justification}
        onChange={(e) => setJustification(e.target.value)}
        className="w-64 rounded border border-slate-300 px-1 py-0.5"
      />
      <button type="button" className="rounded bg-emerald-700 px-2 py-1 text-white" onClick={() => void run("approve")}>
        Approve selected
      </button>
    </div>
  );
}
