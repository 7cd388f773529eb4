import type { Metadata } from "next";
import Link from "next/link";
import { FilterSelect } from "@/components/data-table/filter-select";
import { words } from "@/components/format";
import { AnalysisButton } from "@/components/review/analysis-button";
import { QueueView } from "@/components/review/queue-view";
import { requirePageActor } from "@/lib/auth/session";
import { flatSearchParams, toSearchString } from "@/lib/url-state";
import { latestAnalysisRun } from "@/lib/analysis";
import { listQueue, needsSecondReviewCount, parseQueueQuery, QUEUE_PER_PAGE, queueFilterOptions, queueStance, RULES, SEVERITIES } from "@/lib/review";

export const metadata: Metadata = { title: "Review queue" };
export const dynamic = "force-dynamic";

type Params = Record<string, string | string[] | undefined>;

const RULE_TABS = [["", "All"], ...RULES.map((r) => [r, words(r)])] as const;

export default async function QueuesPage({ searchParams }: { searchParams: Promise<Params> }) {
  const actor = await requirePageActor();
  const raw = await searchParams;
  const query = parseQueueQuery(raw);
  const stance = queueStance(actor);
  const [page, options, run, toConfirm] = await Promise.all([listQueue(actor, query), queueFilterOptions(actor), latestAnalysisRun(actor), needsSecondReviewCount(actor)]);
  // "Needs 2nd review" is for those who may confirm (two-person rule); the others never could.
  const views = [["open", "Open"], ...(stance.canDecide ? [["confirm", `Needs 2nd review (${toConfirm})`]] : []), ["decided", "Recently decided"]] as const;

  // A tab keeps the other filters and starts again at page 1.
  const link = (changes: Record<string, string | undefined>) => `/queues${toSearchString({ ...flatSearchParams(raw), ...changes, page: undefined })}`;
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-start justify-between gap-2">
        <h1 className="text-xl font-semibold">Review queue</h1>
        <AnalysisButton initial={run} canRun={stance.canRunAnalysis} />
      </div>
      <nav aria-label="Queue view" className="flex gap-3 border-b border-slate-200 text-sm">
        {views.map(([v, label]) => (
          <Link key={v} href={link({ view: v === "open" ? undefined : v })} aria-current={query.view === v ? "page" : undefined} className={`-mb-px border-b-2 px-1 pb-1 ${query.view === v ? "border-slate-900 font-medium" : "border-transparent text-slate-600"}`}>
            {label}
          </Link>
        ))}
      </nav>
      <nav aria-label="Rules" className="flex flex-wrap gap-1 text-sm">
        {RULE_TABS.map(([rule, label]) => (
          <Link key={rule} href={link({ rule: rule || undefined })} aria-current={(query.rule ?? "") === rule ? "page" : undefined} className={`rounded px-2 py-0.5 ${(query.rule ?? "") === rule ? "bg-slate-800 text-white" : "bg-slate-100 text-slate-700 hover:bg-slate-200"}`}>
            {label}
          </Link>
        ))}
      </nav>
      <QueueView
        stance={stance}
        selectable={query.view === "open"}
        rows={page.rows}
        pagination={{ page: page.page, pageCount: page.pageCount, total: page.total, totalCapped: page.totalCapped, hasNext: page.hasNext, rowsOnPage: page.rows.length, perPage: query.perPage, perPageOptions: QUEUE_PER_PAGE }}
        toolbar={
          <>
            <FilterSelect param="severity" label="Severity" value={query.severity} options={SEVERITIES.map((s) => ({ value: s, label: s }))} />
            <FilterSelect param="api" label="API" value={query.api} options={options.apis.map((a) => ({ value: a, label: a }))} />
            <FilterSelect param="environment" label="Environment" value={query.environment} options={options.environments.map((e) => ({ value: e.id, label: e.name }))} />
            <FilterSelect param="assignee" label="Assignee" value={query.assignee} allLabel="Anyone" options={[{ value: "me", label: "Assigned to me" }, { value: "unassigned", label: "Unassigned" }]} />
          </>
        }
      />
    </div>
  );
}
