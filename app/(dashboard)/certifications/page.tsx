import type { Metadata } from "next";
import Link from "next/link";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { ATTESTATION, listMyCampaigns, listMyItems } from "@/lib/campaigns";
import { AppError } from "@/lib/errors";
import { CertificationTable } from "@/components/campaigns/certification-table";
import { EmptyState } from "@/components/empty-state";
import { day } from "@/components/format";

export const metadata: Metadata = { title: "My certifications" };
export const dynamic = "force-dynamic";

type Search = { campaign?: string; groupBy?: string; status?: string; q?: string; page?: string; perPage?: string };

export default async function CertificationsPage({ searchParams }: { searchParams: Promise<Search> }) {
  const actor = await requirePageActor();
  if (!can(actor, "campaigns:certify") && !can(actor, "campaigns:manage")) return <p role="alert">Certifications are for managers and reviewers.</p>;
  const sp = await searchParams;
  const campaigns = await listMyCampaigns(actor);
  const selectedId = sp.campaign ?? campaigns.find((c) => c.status !== "closed")?.id ?? campaigns[0]?.id;
  const page = selectedId
    ? await listMyItems(actor, { ...sp, campaignId: selectedId }).catch((e: unknown) => {
        if (e instanceof AppError && e.code === "not_found") return null;
        throw e;
      })
    : null;
  const href = (o: Partial<Search>) => `/certifications?${new URLSearchParams({ ...(selectedId ? { campaign: selectedId } : {}), groupBy: page?.groupBy ?? "person", status: page?.status ?? "pending", ...(page?.q ? { q: page.q } : {}), ...o } as Record<string, string>)}`;
  return (
    <div className="flex flex-col gap-5">
      <h1 className="text-xl font-semibold">My certifications</h1>
      {campaigns.length === 0 ? (
        <EmptyState title="Nothing to certify">When an admin launches a campaign with items for you, it appears here and in your notifications.</EmptyState>
      ) : (
        <nav aria-label="Campaigns" className="flex flex-wrap gap-2" data-testid="my-campaigns">
          {campaigns.map((c) => (
            <Link key={c.id} href={`/certifications?campaign=${c.id}`} aria-current={c.id === selectedId ? "page" : undefined} className={`rounded border px-3 py-2 ${c.id === selectedId ? "border-slate-900 bg-white" : "border-slate-200 bg-slate-50 hover:border-slate-400"}`}>
              <div className="font-medium">{c.name}</div>
              <div className="text-xs text-slate-500">
                {c.status} · due {day(c.dueAt)} · {c.total - c.pending}/{c.total} decided{c.signedAt ? " · signed off" : ""}
              </div>
            </Link>
          ))}
        </nav>
      )}
      {selectedId && !page && <p role="alert">That campaign does not exist.</p>}
      {page && (
        <>
          <p className="text-slate-600">
            {page.campaign.name} · {page.campaign.status} · due {day(page.campaign.dueAt)}
          </p>
          <form className="flex flex-wrap items-end gap-3" action="/certifications">
            <input type="hidden" name="campaign" value={page.campaign.id} />
            <input type="hidden" name="groupBy" value={page.groupBy} />
            <label className="flex flex-col gap-1">
              <span className="text-xs font-medium text-slate-600">Show</span>
              <select name="status" defaultValue={page.status} className="rounded border border-slate-300 px-2 py-1">
                <option value="pending">To decide</option>
                <option value="awaiting">Awaiting 2nd reviewer</option>
                <option value="decided">Decided</option>
                <option value="all">All</option>
              </select>
            </label>
            <label className="flex flex-col gap-1">
              <span className="text-xs font-medium text-slate-600">Search person, API or scope</span>
              <input name="q" defaultValue={page.q} className="rounded border border-slate-300 px-2 py-1" />
            </label>
            <button type="submit" className="rounded border border-slate-300 bg-white px-3 py-1">
              Apply
            </button>
          </form>
          <CertificationTable
            rows={page.rows}
            groupBy={page.groupBy}
            frozen={page.campaign.status === "closed"}
            delegates={page.delegates}
            progress={{
              campaignId: page.campaign.id,
              attestation: ATTESTATION,
              ...page.progress,
              awaitingHref: href({ status: "awaiting", page: "1" }),
              signedAt: page.campaign.signedAt?.toISOString() ?? null,
              open: page.campaign.status !== "closed",
            }}
            empty={
              <EmptyState title={page.status === "pending" ? "Nothing left to decide" : page.status === "awaiting" ? "Nothing awaits a second reviewer" : "No items match"}>
                {page.status === "pending" ? <Link href={href({ status: "all" })}>Show all items</Link> : null}
              </EmptyState>
            }
          />
          <nav aria-label="Pagination" className="flex items-center gap-3 text-slate-600">
            <span>
              {page.total === 0 ? 0 : (page.page - 1) * page.perPage + 1}–{Math.min(page.total, page.page * page.perPage)} of {page.total}
            </span>
            {page.page > 1 && <Link href={href({ page: String(page.page - 1) })}>← Previous</Link>}
            {page.page * page.perPage < page.total && <Link href={href({ page: String(page.page + 1) })}>Next →</Link>}
          </nav>
        </>
      )}
    </div>
  );
}
