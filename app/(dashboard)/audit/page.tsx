import type { Metadata } from "next";
import Link from "next/link";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { AUDIT_DEFAULT_PER_PAGE, listAuditEvents, parseAuditFilter, verifyAuditChainAs, type AuditFilter } from "@/lib/audit/query";
import { toSearchString } from "@/lib/url-state";
import { AuditTable } from "@/components/auth/audit-table";
import { ChainStatus } from "@/components/auth/chain-status";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

type Params = Record<string, string | string[] | undefined>;

const href = (filter: AuditFilter, patch: Partial<AuditFilter> & { verify?: string }) =>
  `/audit${toSearchString({ ...filter, ...patch }, { page: 1, perPage: AUDIT_DEFAULT_PER_PAGE })}`;

export default async function AuditPage({ searchParams }: { searchParams: Promise<Params> }) {
  const actor = await requirePageActor();
  if (!can(actor, "audit:read")) {
    return <p role="alert">The audit log is visible to admins and auditors only.</p>;
  }
  const params = await searchParams;
  // Bad params never fail the page: each falls back (lib/url-state.ts) and is named here.
  const filter = parseAuditFilter(params);
  const ignored = parseAuditFilter.ignored(params);
  const [{ rows, total, actions }, verification] = await Promise.all([
    listAuditEvents(actor, filter),
    params.verify === "1" ? verifyAuditChainAs(actor) : Promise.resolve(null),
  ]);
  const pages = Math.max(1, Math.ceil(total / filter.perPage));
  return (
    <div className="flex flex-col gap-4">
      <div className="flex items-center justify-between">
        <h1 className="text-xl font-semibold">Audit log</h1>
        <Link href={href(filter, { verify: "1" })} className="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-800">
          Verify chain
        </Link>
      </div>
      {verification && <ChainStatus result={verification} />}
      {ignored.length > 0 ? (
        <p role="alert" className="rounded border border-amber-200 bg-amber-50 p-2 text-sm text-amber-900">
          Ignored {ignored.map((k) => `"${k}"`).join(", ")}: not a value this page understands (dates are YYYY-MM-DD, pages are whole numbers).{" "}
          <Link href="/audit" className="underline">
            Reset filters
          </Link>
        </p>
      ) : null}
      <form method="get" action="/audit" className="flex flex-wrap items-end gap-3 rounded border border-slate-200 bg-white p-3">
        <label className="flex flex-col gap-1">
          <span className="text-xs font-medium text-slate-600">Action</span>
          <select name="action" defaultValue={filter.action ?? ""} className="rounded border border-slate-300 px-2 py-1">
            <option value="">All actions</option>
            {actions.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1">
          <span className="text-xs font-medium text-slate-600">Actor contains</span>
          <input name="actor" defaultValue={filter.actor ?? ""} className="rounded border border-slate-300 px-2 py-1" />
        </label>
        <label className="flex flex-col gap-1">
          <span className="text-xs font-medium text-slate-600">From (UTC)</span>
          <input type="date" name="from" defaultValue={filter.from ?? ""} className="rounded border border-slate-300 px-2 py-1" />
        </label>
        <label className="flex flex-col gap-1">
          <span className="text-xs font-medium text-slate-600">To (UTC)</span>
          <input type="date" name="to" defaultValue={filter.to ?? ""} className="rounded border border-slate-300 px-2 py-1" />
        </label>
        <button type="submit" className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100">
          Filter
        </button>
        <Link href="/audit" className="px-1 py-1 text-slate-600 underline">
          Reset
        </Link>
      </form>
      <AuditTable
        rows={rows}
        brokenId={verification?.chain.firstBroken?.id}
        pagination={{ page: filter.page, pageCount: pages, total, hasNext: filter.page < pages, rowsOnPage: rows.length, perPage: filter.perPage }}
      />
    </div>
  );
}
