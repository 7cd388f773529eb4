"use client";
import { useState, useTransition } from "react";
import { closeCampaignAction, launchCampaignAction } from "@/app/(dashboard)/campaigns/actions";

/** Launch (draft) or close (active / fallback round) a campaign, with a confirmation step for close. */
export function CampaignControls({
  campaignId,
  status,
  pending,
  closePolicy,
  confirmItemCount,
}: {
  campaignId: string;
  status: string;
  pending: number;
  closePolicy: string;
  /** Set when the preview is above the threshold: the admin types this count to launch. */
  confirmItemCount?: number;
}) {
  const [busy, start] = useTransition();
  const [typed, setTyped] = useState("");
  const confirmed = confirmItemCount === undefined || typed.trim() === String(confirmItemCount);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const btn = "rounded px-3 py-1.5 text-white disabled:opacity-60";
  if (status === "closed") return null;
  return (
    <div className="flex flex-wrap items-center gap-3">
      {status === "draft" && confirmItemCount !== undefined && (
        <label className="flex items-center gap-2 rounded border border-amber-200 bg-amber-50 px-3 py-1.5 text-sm text-amber-900">
          Type {confirmItemCount} to launch that many items
          <input
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            inputMode="numeric"
            aria-label="Items to launch"
            className="w-24 rounded border border-slate-300 bg-white px-2 py-0.5 text-slate-900"
          />
        </label>
      )}
      {status === "draft" && (
        <button
          type="button"
          disabled={busy || !confirmed}
          className={`${btn} bg-slate-900 hover:bg-slate-800`}
          onClick={() =>
            start(async () => {
              const r = await launchCampaignAction({ campaignId, confirmItemCount });
              setMessage(r.ok ? { ok: true, text: `Launched: ${r.data.itemCount} items snapshotted` } : { ok: false, text: r.error.message });
            })
          }
        >
          {busy ? "Launching…" : "Launch campaign"}
        </button>
      )}
      {status !== "draft" && !confirming && (
        <button type="button" className={`${btn} bg-red-700 hover:bg-red-800`} onClick={() => setConfirming(true)}>
          Close campaign
        </button>
      )}
      {confirming && (
        <div role="group" aria-label="Confirm close" className="flex items-center gap-2 rounded border border-red-200 bg-red-50 px-3 py-2">
          <span>
            {pending} undecided item(s) will be {closePolicy === "revoke" ? "revoked" : "kept and flagged"}, and the campaign frozen.
          </span>
          <button
            type="button"
            disabled={busy}
            className={`${btn} bg-red-700 hover:bg-red-800`}
            onClick={() =>
              start(async () => {
                const r = await closeCampaignAction({ campaignId });
                setConfirming(false);
                setMessage(r.ok ? { ok: true, text: `Closed: the policy decided ${r.data.applied} item(s)` } : { ok: false, text: r.error.message });
              })
            }
          >
            {busy ? "Closing…" : "Close now"}
          </button>
          <button type="button" className="rounded border border-slate-300 bg-white px-3 py-1.5" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      {message && (
        <p role={message.ok ? "status" : "alert"} className={message.ok ? "text-emerald-800" : "text-red-700"}>
          {message.text}
        </p>
      )}
    </div>
  );
}
