import Link from "next/link";

/** One headline figure on a dashboard. */
export function StatCard({ label, value, hint, href, tone = "default" }: { label: string; value: number | string; hint?: string; href?: string; tone?: "default" | "warn" }) {
  const body = (
    <>
      <div className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</div>
      <div className={`mt-1 text-2xl font-semibold tabular-nums ${tone === "warn" ? "text-amber-700" : "text-slate-900"}`}>
        {typeof value === "number" ? value.toLocaleString("en-US") : value}
      </div>
      {hint ? <div className="mt-0.5 text-xs text-slate-500">{hint}</div> : null}
    </>
  );
  const cls = "block rounded border border-slate-200 bg-white px-4 py-3";
  return href ? (
    <Link href={href} className={`${cls} hover:border-slate-400`} data-testid={`stat-${label}`}>
      {body}
    </Link>
  ) : (
    <div className={cls} data-testid={`stat-${label}`}>
      {body}
    </div>
  );
}
