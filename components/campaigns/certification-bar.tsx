"use client";
import Link from "next/link";
import { SignOffForm } from "./sign-off-form";
import type { ATTESTATION } from "@/lib/campaigns";

export interface CertificationProgress {
  campaignId: string;
  attestation: typeof ATTESTATION;
  total: number;
  decided: number;
  pending: number;
  awaiting: number;
  /** Link to the items awaiting a second reviewer. */
  awaitingHref: string;
  /** ISO time of the caller's sign-off, if they signed. */
  signedAt: string | null;
  /** Sign-off is possible at all (the campaign is not closed). */
  open: boolean;
}

const stamp = (iso: string) => `${iso.replace("T", " ").slice(0, 16)} UTC`;

/**
 * Stays at the bottom of the window while the reviewer works down the list: how far they are, the bulk
 * actions for what they selected (children), the last decision's message, and the sign-off itself, so
 * finishing never means scrolling to the end of the last page.
 */
export function CertificationBar({ progress: p, children }: { progress: CertificationProgress; children?: React.ReactNode }) {
  const share = p.total ? (p.decided / p.total) * 100 : 0;
  return (
    <section aria-label="Progress and sign-off" className="sticky bottom-0 z-10 -mx-6 flex flex-col gap-2 border-t border-slate-300 bg-white/95 px-6 py-3 shadow-[0_-2px_6px_rgba(0,0,0,0.06)]" data-testid="certification-bar">
      <div className="flex flex-wrap items-center gap-x-6 gap-y-2">
        <div className="flex items-center gap-3" data-testid="progress">
          <span className="text-sm text-slate-700">
            <span className="text-lg font-semibold tabular-nums" data-testid="progress-figure">
              {p.decided} / {p.total}
            </span>{" "}
            decided
          </span>
          <div className="h-2 w-40 rounded bg-slate-200" role="progressbar" aria-valuemin={0} aria-valuemax={p.total} aria-valuenow={p.decided} aria-label="Items decided">
            <div className="h-2 rounded bg-blue-600" style={{ width: `${share}%` }} />
          </div>
          {p.awaiting > 0 ? (
            <Link href={p.awaitingHref} className="text-sm text-amber-800 underline" data-testid="awaiting-count">
              {p.awaiting} awaiting a 2nd reviewer
            </Link>
          ) : null}
        </div>
        {children}
        <div className="ml-auto">
          {p.signedAt ? (
            <p role="status" className="rounded border border-emerald-300 bg-emerald-50 px-2 py-1 text-sm text-emerald-900" data-testid="signed-off">
              You signed off on {stamp(p.signedAt)}
            </p>
          ) : p.open ? (
            <SignOffForm campaignId={p.campaignId} attestation={p.attestation} pending={p.pending} awaiting={p.awaiting} />
          ) : null}
        </div>
      </div>
    </section>
  );
}
