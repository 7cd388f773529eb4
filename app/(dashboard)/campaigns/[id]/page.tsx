import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { getCampaignDashboard, previewLaunch } from "@/lib/campaigns";
import { AppError } from "@/lib/errors";
import { CampaignControls } from "@/components/campaigns/campaign-controls";
import { CompletionChart, DecisionsByChart } from "@/components/campaigns/campaign-charts";
import { EmptyState } from "@/components/empty-state";
import { LaunchPreviewPanel } from "@/components/campaigns/launch-preview";
import { StatCard } from "@/components/stat-card";
import { stamp, words } from "@/components/format";

export const metadata: Metadata = { title: "Campaign" };
export const dynamic = "force-dynamic";

const when = (d: Date | null) => stamp(d);

export default async function CampaignPage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requirePageActor();
  if (!can(actor, "campaigns:manage") && !can(actor, "campaigns:read")) return <p role="alert">Campaign dashboards are for admins and auditors.</p>;
  const { id } = await params;
  const dash = await getCampaignDashboard(actor, id).catch((e: unknown) => {
    if (e instanceof AppError && e.code === "not_found") notFound();
    throw e;
  });
  const { campaign: c, totals: t } = dash;
  const pct = t.total ? Math.round((t.decided / t.total) * 100) : 0;
  // A draft shows what launching would create (a rolled-back dry run of the launch itself).
  const preview = c.status === "draft" && can(actor, "campaigns:manage") ? await previewLaunch(actor, { campaignId: c.id }) : null;
  return (
    <div className="flex flex-col gap-5" data-testid="campaign-dashboard">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <Link href="/campaigns" className="text-sm text-blue-700 hover:underline">
            ← Campaigns
          </Link>
          <h1 className="text-xl font-semibold">{c.name}</h1>
          <p className="text-slate-600">
            {c.period} · <span data-testid="campaign-status">{c.status}</span> · due {when(c.dueAt)} · reviewers: {words(c.reviewerRule)} · unreviewed at
            close: {words(c.closePolicy)}
            {c.fallbackReviewer ? ` after a ${c.fallbackDays}-day round with ${c.fallbackReviewer}` : ""} · owner {c.owner}
            {c.recurrence === "quarterly" ? " · repeats quarterly" : ""}
          </p>
        </div>
        {can(actor, "campaigns:manage") && (
          <CampaignControls
            campaignId={c.id}
            status={c.status}
            pending={t.pending}
            closePolicy={c.closePolicy}
            confirmItemCount={preview?.needsConfirmation ? preview.itemCount : undefined}
          />
        )}
      </div>
      {c.status === "draft" ? (
        preview ? (
          <LaunchPreviewPanel preview={preview} />
        ) : (
          <EmptyState title="Not launched yet">Launching snapshots every in-scope grant as an item and notifies the reviewers.</EmptyState>
        )
      ) : (
        <>
          <div className="grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-8" data-testid="campaign-totals">
            <StatCard label="Items" value={t.total} />
            <StatCard label="Decided" value={t.decided} hint={`${pct}% complete`} />
            <StatCard label="Kept" value={t.keep} />
            <StatCard label="Revoked" value={t.revoke} hint={`${t.enforced} enforced, ${t.enforcing} in flight`} />
            <StatCard label="Reduced" value={t.reduce} />
            <StatCard label="Pending" value={t.pending} hint={t.awaiting ? `${t.awaiting} awaiting a 2nd reviewer` : undefined} />
            <StatCard label="Overdue" value={t.overdue} tone={t.overdue ? "warn" : "default"} hint={`${t.escalated} escalated`} />
            <StatCard label="Owner fallback" value={t.ownerFallback} hint="no eligible reviewer: the owner reviews" />
          </div>
          <section className="rounded border border-slate-200 bg-white p-4">
            <h2 className="mb-2 font-semibold">Completion over time</h2>
            <CompletionChart data={dash.completion} />
          </section>
          <div className="grid gap-4 lg:grid-cols-2">
            <section className="rounded border border-slate-200 bg-white p-4">
              <h2 className="mb-2 font-semibold">Decisions by team</h2>
              {dash.byTeam.length ? <DecisionsByChart data={dash.byTeam} categoryKey="team" label="Decisions by team" /> : <p className="text-slate-500">No items.</p>}
            </section>
            <section className="rounded border border-slate-200 bg-white p-4">
              <h2 className="mb-2 font-semibold">Decisions by reviewer</h2>
              {dash.byReviewer.length ? (
                <DecisionsByChart data={dash.byReviewer} categoryKey="reviewer" label="Decisions by reviewer" />
              ) : (
                <p className="text-slate-500">No reviewer has anything yet.</p>
              )}
            </section>
          </div>
          <section className="rounded border border-slate-200 bg-white p-4" data-testid="snapshot-evidence">
            <h2 className="mb-2 font-semibold">Snapshot completeness evidence</h2>
            <dl className="grid grid-cols-[10rem_1fr] gap-x-4 gap-y-1">
              <dt className="text-slate-500">Taken at</dt>
              <dd>{when(c.snapshotAt)}</dd>
              <dt className="text-slate-500">Rows</dt>
              <dd data-testid="snapshot-count">{c.snapshotCount}</dd>
              <dt className="text-slate-500">SHA-256</dt>
              <dd className="break-all font-mono text-xs" data-testid="snapshot-sha256">
                {c.snapshotSha256}
              </dd>
              <dt className="text-slate-500">Criteria</dt>
              <dd>
                <pre className="overflow-x-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs">{JSON.stringify(c.snapshotCriteria, null, 2)}</pre>
              </dd>
            </dl>
          </section>
          <section className="rounded border border-slate-200 bg-white p-4">
            <h2 className="mb-2 font-semibold">Sign-offs</h2>
            {dash.signOffs.length === 0 ? (
              <p className="text-slate-500">No reviewer has signed off yet.</p>
            ) : (
              <ul data-testid="sign-offs" className="flex flex-col gap-1">
                {dash.signOffs.map((s) => (
                  <li key={s.reviewer}>
                    {s.reviewer} — {s.itemCount} item(s), {when(s.signedAt)} <span className="font-mono text-xs text-slate-500">{s.itemsSha256.slice(0, 16)}…</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </div>
  );
}
