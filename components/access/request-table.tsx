import Link from "next/link";
import { Badge, type BadgeTone } from "@/components/badge";
import type { RequestRow } from "@/lib/access/queries";

const fmt = (d: Date | null) => (d ? d.toISOString().replace("T", " ").slice(0, 16) : "—");
const TONE: Record<string, BadgeTone> = { pending: "warn", approved: "good", denied: "bad", expired: "neutral" };
const duration = (r: RequestRow) => (r.durationSeconds ? `${Math.round(r.durationSeconds / 360) / 10} h` : `until ${fmt(r.until)}`);

interface RequestTableProps {
  rows: RequestRow[];
  total: number;
  page: number;
  pageSize: number;
  status: string;
  basePath: string;
  /** The per-row controls. */
  actions?: (r: RequestRow) => React.ReactNode;
  /** The row the keyboard acts on (the approvals inbox); a click makes a row active. */
  active?: { index: number; onSelect: (index: number) => void };
}

/** One table for both request pages (server-rendered data; the inbox adds a keyboard cursor). */
export function RequestTable({ rows, total, page, pageSize, status, basePath, actions, active }: RequestTableProps) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <div className="flex flex-col gap-2">
      <nav aria-label="Status filter" className="flex gap-2 text-sm">
        {["pending", "approved", "denied", "expired", "all"].map((s) => (
          <Link key={s} href={`${basePath}?status=${s}`} aria-current={s === status ? "page" : undefined} className={`rounded px-2 py-0.5 ${s === status ? "bg-slate-900 text-white" : "border border-slate-300"}`}>
            {s}
          </Link>
        ))}
      </nav>
      <div className="overflow-x-auto rounded border border-slate-200 bg-white">
        <table className="w-full text-left text-sm">
          <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase text-slate-500">
            <tr>
              <th className="px-2 py-2">Requested</th>
              <th className="px-2">By / for</th>
              <th className="px-2">API · scopes</th>
              <th className="px-2">Reason</th>
              <th className="px-2">Duration</th>
              <th className="px-2">Status</th>
              {actions && <th className="px-2" />}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={7} className="px-2 py-4 text-slate-500">
                  Nothing here.
                </td>
              </tr>
            )}
            {rows.map((r, i) => (
              <tr
                key={r.id}
                data-request-id={r.id}
                data-row-index={i}
                aria-selected={active ? i === active.index : undefined}
                onClick={active ? () => active.onSelect(i) : undefined}
                className={`border-b border-slate-100 align-top ${active?.index === i ? "bg-sky-50 outline outline-1 outline-sky-300" : ""}`}
              >
                <td className="px-2 py-2">{fmt(r.createdAt)}</td>
                <td className="px-2 py-2">
                  {r.requester}
                  <div className="text-xs text-slate-500">for {r.principal}</div>
                </td>
                <td className="px-2 py-2">
                  {r.api} <span className="text-xs text-slate-500">({r.environment})</span>
                  <div className="font-mono text-xs">{r.scopes.join(" ")}</div>
                </td>
                <td className="max-w-xs whitespace-pre-wrap break-words px-2 py-2">{r.reason}</td>
                <td className="px-2 py-2">{duration(r)}</td>
                <td className="px-2 py-2">
                  <Badge tone={TONE[r.status] ?? "neutral"}>{r.status}</Badge>
                  {r.status === "pending" && r.approvalsNeeded > 1 && <div className="text-xs">{r.approvals} of {r.approvalsNeeded} approvals</div>}
                  {r.grantStartsAt && <div className="text-xs">from {fmt(r.grantStartsAt)} to {fmt(r.grantEndsAt)}</div>}
                  {r.enforcement && <div className="text-xs" data-testid="enforcement">{r.enforcement === "applied" ? `enforced ${fmt(r.enforcedAt)}` : r.enforcement}</div>}
                  {r.denyReason && <div className="text-xs text-red-700">{r.denyReason}</div>}
                </td>
                {actions && <td className="px-2 py-2">{actions(r)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav aria-label="Pages" className="flex items-center gap-3 text-sm">
        {page > 1 && <Link href={`${basePath}?status=${status}&page=${page - 1}`}>← Previous</Link>}
        <span>
          Page {page} of {pages} ({total})
        </span>
        {page < pages && <Link href={`${basePath}?status=${status}&page=${page + 1}`}>Next →</Link>}
      </nav>
    </div>
  );
}
