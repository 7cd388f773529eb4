import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/components/empty-state";
import { ExportForm } from "@/components/reports/export-form";
import { ExportsTable } from "@/components/reports/exports-table";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { exportListQuery, listExports, reportFormOptions, REPORTS } from "@/lib/reports";

export const metadata: Metadata = { title: "Reports" };
export const dynamic = "force-dynamic";

type Params = Record<string, string | string[] | undefined>;
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export default async function ReportsPage({ searchParams }: { searchParams: Promise<Params> }) {
  const actor = await requirePageActor();
  if (!can(actor, "reports:export")) {
    return <p role="alert">Evidence exports are available to admins and auditors only.</p>;
  }
  const params = await searchParams;
  const names = Object.keys(REPORTS);
  const selected = names.includes(first(params.report) ?? "") ? first(params.report)! : "inventory";
  const def = REPORTS[selected];
  // A bad page number falls back to the first page rather than failing the whole page.
  const query = exportListQuery.safeParse({ page: first(params.page), perPage: first(params.perPage) });
  const paging = query.success ? query.data : exportListQuery.parse({});
  const [options, exportsPage] = await Promise.all([reportFormOptions(actor), listExports(actor, paging)]);
  const pages = Math.max(1, Math.ceil(exportsPage.total / paging.perPage));

  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-xl font-semibold">Evidence reports</h1>
      <nav aria-label="Reports" className="flex flex-wrap gap-2">
        {names.map((n) => (
          <Link
            key={n}
            href={`/reports?report=${n}`}
            aria-current={n === selected ? "page" : undefined}
            className={`rounded border px-3 py-1 ${n === selected ? "border-slate-900 bg-slate-900 text-white" : "border-slate-300 bg-white hover:bg-slate-100"}`}
          >
            {REPORTS[n].title}
          </Link>
        ))}
      </nav>
      <section aria-labelledby="report-title" className="flex flex-col gap-2">
        <h2 id="report-title" className="font-medium">{def.title}</h2>
        <p className="text-slate-600">{def.description}</p>
        <ExportForm report={def.name} fields={def.fields} options={options} />
        <p className="text-xs text-slate-500">
          CSV and JSON are streamed; their SHA-256 is recorded when the download ends and listed below. PDF summaries carry it in the
          X-Tollgate-Sha256 header too. Each export is recorded in the audit log.
        </p>
      </section>
      <section aria-labelledby="past-exports" className="flex flex-col gap-2">
        <div className="flex items-baseline justify-between">
          <h2 id="past-exports" className="font-medium">Past exports</h2>
          <Link href={`/reports?report=${selected}`} className="text-xs text-sky-800 hover:underline">
            Refresh
          </Link>
        </div>
        {exportsPage.rows.length === 0 ? (
          <EmptyState title="No exports yet">Choose a report above and download it; it will be listed here with its SHA-256.</EmptyState>
        ) : (
          <ExportsTable
            rows={exportsPage.rows}
            pagination={{ page: paging.page, pageCount: pages, total: exportsPage.total, hasNext: paging.page < pages, rowsOnPage: exportsPage.rows.length, perPage: paging.perPage }}
          />
        )}
      </section>
    </div>
  );
}
