import type { Metadata } from "next";
import Link from "next/link";
import { StackedBarChart } from "@/components/charts/stacked-bar-chart";
import { EmptyState } from "@/components/empty-state";
import { StatCard } from "@/components/stat-card";
import { requirePageActor } from "@/lib/auth/session";
import { AGE_BUCKETS, getOverview } from "@/lib/inventory";

export const metadata: Metadata = { title: "Overview" };
export const dynamic = "force-dynamic";

// Fresh use is calm, age is warning, never used is the loudest.
const BUCKET_COLORS = ["#0f766e", "#14b8a6", "#fbbf24", "#f97316", "#dc2626"];

export default async function OverviewPage() {
  const actor = await requirePageActor();
  const o = await getOverview(actor);
  return (
    <div className="space-y-6">
      <h1 className="text-xl font-semibold">Overview</h1>
      <section aria-label="Inventory figures" className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-5">
        <StatCard label="APIs" value={o.apis} href="/apis" />
        <StatCard label="Endpoints" value={o.endpoints} />
        <StatCard label="Principals" value={o.principals} />
        <StatCard label="Active grants" value={o.activeGrants} href="/grants?status=active" />
        <StatCard label="Unused 90+ days" value={o.unusedGrants90d} tone={o.unusedGrants90d > 0 ? "warn" : "default"}
          hint="active, no use (or never used) in 90 days" href="/grants?status=active&sort=lastUsedAt&dir=asc" />
      </section>
      <section aria-labelledby="age-chart" className="rounded border border-slate-200 bg-white p-4">
        <div className="mb-2 flex items-baseline justify-between">
          <h2 id="age-chart" className="font-medium">Active grants by environment and last use</h2>
          <Link href="/grants?status=active&lastUsed=gt90" className="text-xs text-sky-800 hover:underline">Dormant grants →</Link>
        </div>
        {o.byEnvironment.length === 0 ? (
          <EmptyState title="No active grants yet">Load the inventory (for a demo: <code>npm run seed</code>).</EmptyState>
        ) : (
          <StackedBarChart
            data={o.byEnvironment}
            categoryKey="environment"
            series={AGE_BUCKETS.map((key, i) => ({ key, color: BUCKET_COLORS[i] }))}
            label="Active grants per environment, stacked by time since last use"
          />
        )}
      </section>
    </div>
  );
}
