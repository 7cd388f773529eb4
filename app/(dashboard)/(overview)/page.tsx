import type { Metadata } from "next";
import Link from "next/link";
import { StackedBarChart } from "@/components/charts/stacked-bar-chart";
import { StackedAreaChart } from "@/components/charts/stacked-area-chart";
import { CampaignsInFlight, Panel, ProxyLag, RiskiestFindings, TimeToAct } from "@/components/overview-panels";
import { EmptyState } from "@/components/empty-state";
import { StatCard } from "@/components/stat-card";
import { requirePageActor } from "@/lib/auth/session";
import { AGE_BUCKETS, REMOVAL_STATES, SEVERITIES, getOverview, getOverviewTrends } from "@/lib/inventory";

export const metadata: Metadata = { title: "Overview" };
export const dynamic = "force-dynamic";

// Fresh use is calm, age is warning, never used is the loudest.
const BUCKET_COLORS = ["#0f766e", "#14b8a6", "#fbbf24", "#f97316", "#dc2626"];
const SEVERITY_COLORS: Record<string, string> = { critical: "#b91c1c", high: "#f97316", medium: "#fbbf24", low: "#94a3b8" };
const REMOVAL_COLORS: Record<string, string> = { enforced: "#059669", "in flight": "#38bdf8", failed: "#dc2626", "no proxy needed": "#cbd5e1" };

export default async function OverviewPage() {
  const actor = await requirePageActor();
  const [o, t] = await Promise.all([getOverview(actor), getOverviewTrends(actor)]);
  const now = Date.now();
  const latest = t.findingTrend.at(-1);
  const removed = t.removedPerWeek.reduce((n, w) => n + REMOVAL_STATES.reduce((m, k) => m + w[k], 0), 0);
  const enforced = t.removedPerWeek.reduce((n, w) => n + w.enforced, 0);
  const needingProxy = removed - t.removedPerWeek.reduce((n, w) => n + w["no proxy needed"], 0);
  return (
    <div className="space-y-4">
      <h1 className="text-xl font-semibold">Overview</h1>
      <section aria-label="Inventory figures" className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-5">
        <StatCard label="APIs" value={o.apis} href="/apis" />
        <StatCard label="Endpoints" value={o.endpoints} />
        <StatCard label="Principals" value={o.principals} />
        <StatCard label="Active grants" value={o.activeGrants} href="/grants?status=active" />
        <StatCard label="Unused 90+ days" value={o.unusedGrants90d} tone={o.unusedGrants90d > 0 ? "warn" : "default"}
          hint="active, no use (or never used) in 90 days" href="/grants?status=active&sort=lastUsedAt&dir=asc" />
      </section>
      <section aria-label="Where access came from" className="grid grid-cols-2 gap-3 md:grid-cols-3" data-testid="grant-origins">
        <StatCard label="Granted through Tollgate" value={o.grantOrigins.throughTollgate} hint="active grants from approved access requests" />
        <StatCard label="Imported (reviewed baseline)" value={o.grantOrigins.imported} hint="active grants from access import sources" />
        <StatCard label="Granted outside review" value={o.grantOrigins.outsideReview} tone={o.grantOrigins.outsideReview > 0 ? "warn" : "default"}
          hint={`added at the gateway after a source's first import; ${o.grantOrigins.rolledBack} rolled back automatically`} href="/queues?rule=granted_outside_review" />
      </section>
      <div className="grid gap-4 xl:grid-cols-2">
        <Panel
          id="trend-chart"
          title="Open findings by severity, last 90 days"
          action={
            <span className="flex gap-2 text-xs tabular-nums text-slate-600" data-testid="open-findings-latest">
              {SEVERITIES.map((s) => (
                <span key={s}>
                  {s} <b data-testid={`open-${s}`}>{latest ? latest[s] : 0}</b>
                </span>
              ))}
            </span>
          }
        >
          {t.findingTrend.length === 0 ? (
            <EmptyState title="No daily counts yet">The first analysis run stores them (the scheduler runs it every hour).</EmptyState>
          ) : (
            <StackedAreaChart
              data={t.findingTrend}
              xKey="day"
              series={[...SEVERITIES].reverse().map((key) => ({ key, color: SEVERITY_COLORS[key] }))}
              label="Open findings per day, stacked by severity"
            />
          )}
        </Panel>
        <Panel
          id="removed-chart"
          title="Access removed per week"
          action={
            <span className="text-xs text-slate-600">
              <b data-testid="removed-total">{removed}</b> revokes and reduces in 12 weeks; <b data-testid="removed-enforced">{enforced}</b> of{" "}
              <span data-testid="removed-needing-proxy">{needingProxy}</span> that need a proxy are enforced
            </span>
          }
        >
          <StackedBarChart
            data={t.removedPerWeek}
            categoryKey="week"
            series={REMOVAL_STATES.map((key) => ({ key, color: REMOVAL_COLORS[key] }))}
            height={220}
            label="Revokes and reduces per week, stacked by enforcement state"
          />
        </Panel>
      </div>
      <div className="grid gap-4 lg:grid-cols-3">
        <Panel id="time-to-act" title="Time to act (median)">
          <TimeToAct medians={t.medians} />
        </Panel>
        <Panel id="proxy-lag" title="Proxies and their lag" action={<Link href="/settings/proxies" className="text-xs text-sky-800 hover:underline">Proxies →</Link>}>
          <ProxyLag proxies={t.proxies} now={now} />
        </Panel>
        <Panel id="campaigns-in-flight" title="Campaigns in flight" action={<Link href="/campaigns" className="text-xs text-sky-800 hover:underline">Campaigns →</Link>}>
          <CampaignsInFlight campaigns={t.campaigns} />
        </Panel>
      </div>
      <Panel id="riskiest" title="Five riskiest open findings" action={<Link href="/queues" className="text-xs text-sky-800 hover:underline">Review queue →</Link>}>
        <RiskiestFindings rows={t.riskiest} />
      </Panel>
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
