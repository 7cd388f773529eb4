import type { Metadata } from "next";
import Link from "next/link";
import { z } from "zod";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { campaignFormOptions, listCampaigns } from "@/lib/campaigns";
import { CreateCampaignForm } from "@/components/campaigns/create-campaign-form";
import { CellsTable, NUMERIC } from "@/components/data-table/cells-table";
import { EmptyState } from "@/components/empty-state";
import { searchParamsParser } from "@/lib/url-state";
import { words } from "@/components/format";

export const metadata: Metadata = { title: "Campaigns" };
export const dynamic = "force-dynamic";

const day = (d: Date) => d.toISOString().slice(0, 10);

const parseQuery = searchParamsParser(z.object({ page: z.coerce.number().int().min(1).max(10_000).catch(1) }));

export default async function CampaignsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requirePageActor();
  if (!can(actor, "campaigns:manage") && !can(actor, "campaigns:read")) {
    return <p role="alert">Campaigns are managed by admins; managers and reviewers certify under My certifications.</p>;
  }
  const { page } = parseQuery(await searchParams);
  const [list, options] = await Promise.all([listCampaigns(actor, { page }), can(actor, "campaigns:manage") ? campaignFormOptions(actor) : null]);
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
        <CellsTable
          testId="campaigns-table"
          label="Campaigns"
          pagination={{ page: list.page, pageCount: pages, total: list.total, hasNext: list.page < pages, rowsOnPage: list.rows.length, perPage: list.perPage }}
          columns={{ name: ["Name", { className: "font-medium" }], period: "Period", status: "Status", due: "Due", reviewers: "Reviewers", atClose: "At close", progress: ["Progress", NUMERIC] }}
          rows={list.rows.map((c) => ({
            id: c.id,
            cells: {
              name: (
                <Link href={`/campaigns/${c.id}`} className="text-blue-700 hover:underline">
                  {c.name}
                </Link>
              ),
              period: c.period,
              status: c.status,
              due: day(c.dueAt),
              reviewers: words(c.reviewerRule),
              atClose: words(c.closePolicy),
              progress: c.status === "draft" ? "not launched" : `${c.decided} / ${c.total}`,
            },
          }))}
        />
      )}
    </div>
  );
}
