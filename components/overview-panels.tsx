import Link from "next/link";
import type { OverviewTrends } from "@/lib/inventory";
import { PROXY_LAG_WARN_SECONDS } from "@/lib/inventory";
import { number, words } from "@/components/format";
import { When } from "@/components/when";

// The overview's small panels (server components): plain HTML, dense, each figure with a test id.

export function Panel({ title, children, action, id }: { title: string; children: React.ReactNode; action?: React.ReactNode; id: string }) {
  return (
    <section aria-labelledby={id} className="min-w-0 rounded border border-slate-200 bg-white p-4">
      <div className="mb-2 flex items-baseline justify-between gap-2">
        <h2 id={id} className="font-medium">
          {title}
        </h2>
        {action}
      </div>
      {children}
    </section>
  );
}

export function hours(h: number | null): string {
  if (h === null) return "—";
  if (h < 1) return `${Math.max(1, Math.round(h * 60))} min`;
  if (h < 48) return `${h.toFixed(1)} h`;
  return `${(h / 24).toFixed(1)} d`;
}

export function TimeToAct({ medians }: { medians: OverviewTrends["medians"] }) {
  const steps = [
    { label: "Finding → decision", value: medians.findingToDecisionHours, id: "median-finding-decision" },
    { label: "Decision → enforced", value: medians.decisionToEnforcementHours, id: "median-decision-enforced" },
  ];
  const max = Math.max(...steps.map((s) => s.value ?? 0), 1e-9);
  return (
    <div className="flex flex-col gap-2">
      {steps.map((s) => (
        <div key={s.id}>
          <div className="flex justify-between text-sm">
            <span className="text-slate-600">{s.label}</span>
            <span className="font-semibold tabular-nums" data-testid={s.id}>
              {hours(s.value)}
            </span>
          </div>
          <div className="h-2 rounded bg-slate-100">
            <div className="h-2 rounded bg-sky-600" style={{ width: `${s.value === null ? 0 : Math.max(2, (s.value / max) * 100)}%` }} />
          </div>
        </div>
      ))}
      <p className="text-xs text-slate-500">
        Medians over <span data-testid="median-decisions">{number(medians.decisions)}</span> queue decisions of the last 90 days ({number(medians.enforced)} enforced).
      </p>
    </div>
  );
}

export function ProxyLag({ proxies, now }: { proxies: OverviewTrends["proxies"]; now: number }) {
  if (proxies.length === 0) return <p className="text-sm text-slate-500">No proxy is registered: decisions are recorded but enforced nowhere.</p>;
  return (
    <ul className="flex flex-col divide-y divide-slate-100 text-sm">
      {proxies.map((p) => {
        const state = p.lastSyncAt === null ? "never contacted" : p.lastError ? "error" : (p.lagSeconds ?? 0) > PROXY_LAG_WARN_SECONDS ? "lagging" : "in sync";
        const tone = { "never contacted": "bg-slate-200 text-slate-700", error: "bg-red-100 text-red-800", lagging: "bg-amber-100 text-amber-900", "in sync": "bg-emerald-100 text-emerald-800" }[state];
        return (
          <li key={p.id} className="flex items-center gap-2 py-1" data-testid="overview-proxy" data-proxy={p.name}>
            <span className={`rounded px-1.5 text-xs ${tone}`}>{state}</span>
            <span className="truncate font-medium">{p.name}</span>
            <span className="text-xs text-slate-500">{p.environment}</span>
            <span className="ml-auto text-right text-xs tabular-nums text-slate-600">
              <span data-testid="proxy-pending">{p.pending}</span> pending{p.lagSeconds !== null ? ` · oldest ${Math.round(p.lagSeconds)} s` : ""} · synced <When date={p.lastSyncAt} now={now} time />
            </span>
          </li>
        );
      })}
    </ul>
  );
}

export function CampaignsInFlight({ campaigns }: { campaigns: OverviewTrends["campaigns"] }) {
  if (campaigns.length === 0) return <p className="text-sm text-slate-500">No campaign is running.</p>;
  return (
    <ul className="flex flex-col gap-2 text-sm">
      {campaigns.map((c) => {
        const pct = c.total ? Math.round((c.decided / c.total) * 100) : 0;
        return (
          <li key={c.id} data-testid="overview-campaign" data-campaign-id={c.id}>
            <div className="flex justify-between gap-2">
              <Link href={`/campaigns/${c.id}`} className="truncate text-sky-800 hover:underline">
                {c.name} <span className="text-slate-500">{c.period}</span>
              </Link>
              <span className="shrink-0 tabular-nums text-slate-600">
                <span data-testid="campaign-decided">{number(c.decided)}</span>/<span data-testid="campaign-total">{number(c.total)}</span> · due {c.dueAt.toISOString().slice(0, 10)}
              </span>
            </div>
            <div className="h-2 rounded bg-slate-100" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} aria-label={`${c.name} completion`}>
              <div className="h-2 rounded bg-emerald-600" style={{ width: `${pct}%` }} />
            </div>
          </li>
        );
      })}
    </ul>
  );
}

const SEVERITY_TONE: Record<string, string> = { critical: "bg-red-700 text-white", high: "bg-orange-800 text-white", medium: "bg-amber-200 text-amber-950", low: "bg-slate-200 text-slate-800" };

export function RiskiestFindings({ rows }: { rows: OverviewTrends["riskiest"] }) {
  if (rows.length === 0) return <p className="text-sm text-slate-500">No open findings.</p>;
  return (
    <ol className="flex flex-col divide-y divide-slate-100 text-sm">
      {rows.map((f) => (
        <li key={f.id} className="flex items-center gap-2 py-1" data-testid="riskiest-finding" data-finding-id={f.id}>
          <span className="w-8 text-right font-semibold tabular-nums">{f.riskScore}</span>
          <span className={`rounded px-1.5 text-xs ${SEVERITY_TONE[f.severity] ?? ""}`}>{f.severity}</span>
          <span className="min-w-0 truncate">
            {words(f.rule)} · <span className="font-medium">{f.principal}</span> on {f.api} ({f.environment})
          </span>
          <Link
            href={`/queues?rule=${f.rule}&severity=${f.severity}&api=${encodeURIComponent(f.api)}`}
            className="ml-auto shrink-0 text-xs text-sky-800 hover:underline"
          >
            Review →
          </Link>
        </li>
      ))}
    </ol>
  );
}
