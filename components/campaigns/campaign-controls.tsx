"use client";
import { useState, useTransition } from "react";
import { closeCampaignAction, launchCampaignAction } from "@/app/(dashboard)/campaigns/actions";

/** Launch (draft) or close (active / fallback round) a campaign, with a confirmation step for close. */
export function CampaignControls({
  campaignId,
  status,
  pending,
  closePolicy,
}: {
  campaignId: string;
  status: string;
  pending: number;
  closePolicy: string;
}) {
  const [busy, start] = useTransition();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const btn = "rounded px-3 py-1.5 text-white disabled:opacity-60";
  if (status === "closed") return null;
  return (
    <div className="flex flex-wrap items-center gap-3">
      {status === "draft" && (
        <button
          type="button"
          disabled={busy}
          className={`${btn} bg-slate-900 hover:bg-slate-800`}
          onClick={() =>
            start(async () => {
              const r = await launchCampaignAction({ campaignId });
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
