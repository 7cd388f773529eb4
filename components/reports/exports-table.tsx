import { Badge } from "@/components/badge";
import type { ExportRecordRow } from "@/lib/reports/records";

/** Past exports with the SHA-256 of each file as sent, so an auditor can `sha256sum` a download against it. */
export function ExportsTable({ rows }: { rows: ExportRecordRow[] }) {
  return (
    <div className="overflow-x-auto rounded border border-slate-200 bg-white">
      <table className="w-full text-left" aria-label="Past exports">
        <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase text-slate-500">
          <tr>
            <th className="px-3 py-2">Started (UTC)</th>
            <th className="px-3 py-2">Report</th>
            <th className="px-3 py-2">Format</th>
            <th className="px-3 py-2">Filters</th>
            <th className="px-3 py-2">By</th>
            <th className="px-3 py-2">Status</th>
            <th className="px-3 py-2 text-right">Rows</th>
            <th className="px-3 py-2">SHA-256</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} data-export-id={r.id} className="border-b border-slate-100 align-top">
              <td className="whitespace-nowrap px-3 py-2">{r.startedAt.replace("T", " ").slice(0, 19)}</td>
              <td className="px-3 py-2">{r.report}</td>
              <td className="px-3 py-2 uppercase">{r.format}</td>
              <td className="max-w-xs px-3 py-2">
                <code className="block truncate font-mono text-xs text-slate-600" title={JSON.stringify(r.filters)}>
                  {filterText(r.filters)}
                </code>
              </td>
              <td className="px-3 py-2">{r.actor}</td>
              <td className="px-3 py-2">
                <Badge tone={r.status === "completed" ? "good" : r.status === "failed" ? "bad" : "info"} title={r.error ?? undefined}>
                  {r.status}
                </Badge>
              </td>
              <td className="px-3 py-2 text-right tabular-nums">{r.rowCount ?? "—"}</td>
              <td className="px-3 py-2">
                {r.sha256 ? <code className="select-all break-all font-mono text-xs" data-testid="export-sha256">{r.sha256}</code> : <span className="text-slate-500">{r.error ?? "—"}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function filterText(filters: unknown): string {
  const entries = Object.entries((filters ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(" ") : "(none)";
}
