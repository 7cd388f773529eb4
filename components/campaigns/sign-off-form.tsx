"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { signOffAction } from "@/app/(dashboard)/certifications/actions";
import type { ATTESTATION } from "@/lib/campaigns";

/**
 * The final attestation, in the certification bar: enabled only once every item on the reviewer's list is
 * decided (a proposal awaiting a 2nd reviewer is not); until then it says what is left.
 */
export function SignOffForm({ campaignId, attestation, pending, awaiting = 0 }: { campaignId: string; attestation: typeof ATTESTATION; pending: number; awaiting?: number }) {
  const router = useRouter();
  const [checked, setChecked] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, start] = useTransition();
  const left = pending > awaiting ? `Decide the ${pending - awaiting} remaining item(s) to sign off.` : awaiting > 0 ? `${awaiting} item(s) await a second reviewer (two-person rule): sign off once they are confirmed or rejected.` : null;
  return (
    <div className="flex flex-col items-end gap-1 text-sm" data-testid="sign-off">
      <div className="flex flex-wrap items-center justify-end gap-2">
        <label className="flex items-center gap-2">
          <input type="checkbox" disabled={pending > 0} checked={checked} onChange={(e) => setChecked(e.target.checked)} aria-describedby={left ? "sign-off-left" : undefined} />
          {attestation}
        </label>
        <button
          type="button"
          disabled={pending > 0 || !checked || busy}
          className="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-800 disabled:opacity-40"
          onClick={() =>
            start(async () => {
              const r = await signOffAction({ campaignId, attestation });
              setMessage(r.ok ? { ok: true, text: `Signed off ${r.data.itemCount} item(s)` } : { ok: false, text: r.error.message });
              if (r.ok) router.refresh();
            })
          }
        >
          Sign off
        </button>
      </div>
      {left ? (
        <p id="sign-off-left" className="text-xs text-slate-600">
          {left}
        </p>
      ) : null}
      {message && (
        <p role={message.ok ? "status" : "alert"} className={message.ok ? "text-emerald-800" : "text-red-700"}>
          {message.text}
        </p>
      )}
    </div>
  );
}
