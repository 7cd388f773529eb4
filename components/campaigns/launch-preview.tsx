import type { LaunchPreview } from "@/lib/campaigns";
import { number } from "@/components/format";

const SOURCE: Record<string, string> = { manager: "manager", owning_team: "owning team", named: "named", owner_fallback: "owner fallback" };

/** The launch as a dry run (lib/campaigns/preview.ts): what launching now would create, and for whom. */
export function LaunchPreviewPanel({ preview }: { preview: LaunchPreview }) {
  const share = preview.itemCount ? Math.round((preview.ownerFallback / preview.itemCount) * 100) : 0;
  return (
    <section className="rounded border border-slate-200 bg-white p-4" data-testid="launch-preview" aria-labelledby="launch-preview-title">
      <h2 id="launch-preview-title" className="mb-2 font-semibold">
        Launch preview (dry run)
      </h2>
      <dl className="mb-3 flex flex-wrap gap-x-8 gap-y-1">
        <div>
          <dt className="text-xs text-slate-500">Items</dt>
          <dd className="text-lg font-semibold" data-testid="preview-items">{number(preview.itemCount)}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Reviewers</dt>
          <dd className="text-lg font-semibold">{new Set(preview.perReviewer.map((r) => r.email)).size}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Fall back to the owner</dt>
          <dd className={`text-lg font-semibold ${share >= 25 ? "text-amber-800" : ""}`} data-testid="preview-fallback">
            {number(preview.ownerFallback)} <span className="text-sm font-normal text-slate-500">({share}%)</span>
          </dd>
        </div>
      </dl>
      {share >= 25 && (
        <p className="mb-3 rounded border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          {share}% of the items have no eligible reviewer under this rule and would go to you, the owner. Narrow the scope or pick another reviewer rule.
        </p>
      )}
      {preview.itemCount === 0 ? (
        <p className="text-slate-500">Nothing in scope: launching now would create no items.</p>
      ) : (
        <div className="max-h-64 overflow-y-auto rounded border border-slate-100" tabIndex={0} aria-label="Items per reviewer">
          <table className="w-full text-sm" data-testid="preview-reviewers">
            <thead className="sticky top-0 bg-slate-50 text-left text-xs text-slate-500">
              <tr>
                <th className="px-3 py-1 font-medium">Reviewer</th>
                <th className="px-3 py-1 font-medium">Why</th>
                <th className="px-3 py-1 text-right font-medium">Items</th>
              </tr>
            </thead>
            <tbody>
              {preview.perReviewer.map((r) => (
                <tr key={`${r.email}|${r.source}`} className="border-t border-slate-100">
                  <td className="px-3 py-1">{r.email}</td>
                  <td className="px-3 py-1 text-slate-600">{SOURCE[r.source] ?? r.source}</td>
                  <td className="px-3 py-1 text-right tabular-nums">{number(r.items)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
