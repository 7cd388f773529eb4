import type { Metadata } from "next";
import Link from "next/link";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { campaignFormOptions, listCampaigns } from "@/lib/campaigns";
import { CreateCampaignForm } from "@/components/campaigns/create-campaign-form";
import { EmptyState } from "@/components/empty-state";
import { words } from "@/components/format";

export const metadata: Metadata = { title: "Campaigns" };
export const dynamic = "force-dynamic";

const day = (d: Date) => d.toISOString().slice(0, 10);

export default async function CampaignsPage({ searchParams }: { searchParams: Promise<{ page?: string }> }) {
  const actor = await requirePageActor();
  if (!can(actor, "campaigns:manage") && !can(actor, "campaigns:read")) {
    return <p role="alert">Campaigns are managed by admins; managers and reviewers certify under My certifications.</p>;
  }
  const { page } = await searchParams;
  const [list, options] = await Promise.all([listCampaigns(actor, { page: Number(page) || 1 }), can(actor, "campaigns:manage") ? campaignFormOptions(actor) : null]);
  const pages = Math.max(1, Math.ceil(list.total / list.perPage));
  return (
    <div className="flex flex-col gap-5">
      <h1 className="text-xl font-semibold">Certification campaigns</h1>
      <p className="max-w-3xl text-slate-600">
        A campaign snapshots every in-scope grant — people, service accounts and API keys — and asks an accountable reviewer to keep, revoke or
        reduce each one. Revocations go through the same enforcement path as the review queue.
      </p>
      {options && <CreateCampaignForm options={options} />}
      {list.rows.length === 0 ? (
        <EmptyState title="No campaigns yet">{options ? "Create a draft above, then launch it from its page." : "Admins create campaigns."}</EmptyState>
      ) : (
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table className="w-full text-left" data-testid="campaigns-table">
            <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase text-slate-500">
              <tr>
                <th className="px-3 py-2">Name</th>
                <th className="px-3 py-2">Period</th>
                <th className="px-3 py-2">Status</th>
                <th className="px-3 py-2">Due</th>
                <th className="px-3 py-2">Reviewers</th>
                <th className="px-3 py-2">At close</th>
                <th className="px-3 py-2 text-right">Progress</th>
              </tr>
            </thead>
            <tbody>
              {list.rows.map((c) => (
                <tr key={c.id} className="border-b border-slate-100">
                  <td className="px-3 py-2 font-medium">
                    <Link href={`/campaigns/${c.id}`} className="text-blue-700 hover:underline">
                      {c.name}
                    </Link>
                  </td>
                  <td className="px-3 py-2">{c.period}</td>
                  <td className="px-3 py-2">{c.status}</td>
                  <td className="px-3 py-2">{day(c.dueAt)}</td>
                  <td className="px-3 py-2">{words(c.reviewerRule)}</td>
                  <td className="px-3 py-2">{c.closePolicy.replaceAll("_", " ")}</td>
                  <td className="px-3 py-2 text-right tabular-nums">{c.status === "draft" ? "not launched" : `${c.decided} / ${c.total}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pages > 1 && (
        <nav aria-label="Pagination" className="flex gap-2">
          {list.page > 1 && <Link href={`/campaigns?page=${list.page - 1}`}>← Newer</Link>}
          <span>
            Page {list.page} of {pages}
          </span>
          {list.page < pages && <Link href={`/campaigns?page=${list.page + 1}`}>Older →</Link>}
        </nav>
      )}
    </div>
  );
}
