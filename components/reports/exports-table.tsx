import { Badge } from "@/components/badge";
import { CellsTable, NUMERIC } from "@/components/data-table/cells-table";
import type { PaginationProps } from "@/components/data-table/pagination";
import type { ExportRecordRow } from "@/lib/reports/records";

/** Past exports with the SHA-256 of each file as sent, so an auditor can `sha256sum` a download against it. */
export function ExportsTable({ rows, pagination }: { rows: ExportRecordRow[]; pagination: PaginationProps }) {
  return (
    <CellsTable
      pagination={pagination}
      label="Past exports"
      testId="exports-table"
      empty="No exports yet."
      columns={{ started: "Started (UTC)", report: "Report", format: ["Format", { className: "uppercase" }], filters: ["Filters", { className: "max-w-xs" }], by: "By", status: "Status", rows: ["Rows", NUMERIC], sha256: "SHA-256" }}
      rows={rows.map((r) => ({
        id: r.id,
        data: { "data-export-id": r.id },
        cells: {
          started: r.startedAt.replace("T", " ").slice(0, 19),
          report: r.report,
          format: r.format,
          filters: (
            <code className="block truncate font-mono text-xs text-slate-600" title={JSON.stringify(r.filters)}>
              {filterText(r.filters)}
            </code>
          ),
          by: r.actor,
          status: (
            <Badge tone={r.status === "completed" ? "good" : r.status === "failed" ? "bad" : "info"} title={r.error ?? undefined}>
              {r.status}
            </Badge>
          ),
          rows: r.rowCount,
          sha256: r.sha256 ? <code className="select-all break-all font-mono text-xs" data-testid="export-sha256">{r.sha256}</code> : <span className="text-slate-500">{r.error ?? "—"}</span>,
        },
      }))}
    />
  );
}

function filterText(filters: unknown): string {
  const entries = Object.entries((filters ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(" ") : "(none)";
}
