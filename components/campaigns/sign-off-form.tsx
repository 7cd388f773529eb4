"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { signOffAction } from "@/app/(dashboard)/certifications/actions";
import type { ATTESTATION } from "@/lib/campaigns";

/** The final attestation: enabled only once every item on the reviewer's list is decided (a proposal awaiting a 2nd reviewer is not). */
export function SignOffForm({ campaignId, attestation, pending, awaiting = 0 }: { campaignId: string; attestation: typeof ATTESTATION; pending: number; awaiting?: number }) {
  const router = useRouter();
  const [checked, setChecked] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, start] = useTransition();
  return (
    <section className="rounded border border-slate-200 bg-white p-4" data-testid="sign-off">
      <h2 className="mb-2 font-semibold">Sign-off</h2>
      {pending > awaiting && <p className="mb-2 text-slate-600">Decide the {pending - awaiting} remaining item(s) on your list to sign off.</p>}
      {awaiting > 0 && <p className="mb-2 text-slate-600">{awaiting} item(s) await a second reviewer (two-person rule): you can sign off once they are confirmed or rejected.</p>}
      <label className="flex items-center gap-2">
        <input type="checkbox" disabled={pending > 0} checked={checked} onChange={(e) => setChecked(e.target.checked)} />
        {attestation}
      </label>
      <button
        type="button"
        disabled={pending > 0 || !checked || busy}
        className="mt-2 rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-800 disabled:opacity-40"
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
      {message && (
        <p role={message.ok ? "status" : "alert"} className={message.ok ? "text-emerald-800" : "text-red-700"}>
          {message.text}
        </p>
      )}
    </section>
  );
}
