import Link from "next/link";
import { Badge, type BadgeTone } from "@/components/badge";
import { CellsTable } from "@/components/data-table/cells-table";
import type { RequestRow } from "@/lib/access/queries";
import { stamp } from "@/components/format";

const fmt = (d: Date | null) => stamp(d);
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

/** One table for both request pages (rendered into CellsTable); the inbox adds a keyboard cursor. */
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
      <CellsTable
        label="Access requests"
        activeIndex={active?.index}
        onActivate={active?.onSelect}
        empty="Nothing here."
        pagination={{ page, pageCount: pages, total, hasNext: page < pages, rowsOnPage: rows.length, perPage: pageSize }}
        columns={{ requested: "Requested", who: "By / for", what: "API · scopes", reason: ["Reason", { className: "max-w-xs whitespace-pre-wrap break-words" }], duration: "Duration", status: "Status", ...(actions ? { actions: "" } : {}) }}
        rows={rows.map((r) => ({
          id: r.id,
          data: { "data-request-id": r.id },
          cells: {
            requested: fmt(r.createdAt),
            who: (
              <>
                {r.requester}
                <div className="text-xs text-slate-500">for {r.principal}</div>
              </>
            ),
            what: (
              <>
                {r.api} <span className="text-xs text-slate-500">({r.environment})</span>
                <div className="font-mono text-xs">{r.scopes.join(" ")}</div>
              </>
            ),
            reason: r.reason,
            duration: duration(r),
            status: <RequestStatus r={r} />,
            actions: actions?.(r),
          },
        }))}
      />
    </div>
  );
}

function RequestStatus({ r }: { r: RequestRow }) {
  return (
    <>
      <Badge tone={TONE[r.status] ?? "neutral"}>{r.status}</Badge>
      {r.status === "pending" && r.approvalsNeeded > 1 && <div className="text-xs">{r.approvals} of {r.approvalsNeeded} approvals</div>}
      {r.grantStartsAt && <div className="text-xs">from {fmt(r.grantStartsAt)} to {fmt(r.grantEndsAt)}</div>}
      {r.enforcement && <div className="text-xs" data-testid="enforcement">{r.enforcement === "applied" ? `enforced ${fmt(r.enforcedAt)}` : r.enforcement}</div>}
      {r.denyReason && <div className="text-xs text-red-700">{r.denyReason}</div>}
    </>
  );
}
