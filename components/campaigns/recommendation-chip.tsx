"use client";
import type { Recommendation } from "@/lib/campaigns/recommend";
import type { MyItem } from "@/lib/campaigns/my-items";

const TONE = { keep: "border-emerald-600 bg-emerald-50 text-emerald-900", revoke: "border-red-600 bg-red-50 text-red-900", reduce: "border-amber-600 bg-amber-50 text-amber-900" } as const;

/**
 * The recommendation derived from the item's findings (lib/campaigns/recommend.ts); one click accepts it.
 * A reduce keeps the scopes used in the dormancy window (the reduce's default), named on the chip.
 */
export function RecommendationChip({ recommendation: rec, row, busy, onAccept }: { recommendation: Recommendation; row: MyItem; busy: boolean; onAccept: () => void }) {
  const used = row.scopesOnApi.filter((s) => s.usedInWindow).map((s) => s.name);
  const what = rec.decision === "reduce" && used.length ? `reduce to ${used.join(", ")}` : rec.decision;
  return (
    <button
      type="button"
      disabled={busy}
      onClick={onAccept}
      className={`mt-1 inline-flex max-w-64 items-center gap-1 rounded-full border px-2 py-0.5 text-left text-xs disabled:opacity-40 ${TONE[rec.decision]}`}
      aria-label={`Accept the recommendation: ${what} (${rec.because})`}
      title={`One click decides this item: ${what} (${rec.because})`}
      data-testid="recommendation"
      data-decision={rec.decision}
    >
      <span aria-hidden>✓</span>
      <span>
        Recommended: <span className="font-medium">{what}</span> · {rec.because}
      </span>
    </button>
  );
}
