import type { AuditRow } from "@/lib/audit/query";

export function AuditTable({ rows, brokenId }: { rows: AuditRow[]; brokenId?: string }) {
  if (rows.length === 0) return <p className="text-slate-500">No events match these filters.</p>;
  return (
    <div className="overflow-x-auto rounded border border-slate-200 bg-white">
      <table className="w-full text-left">
        <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase text-slate-500">
          <tr>
            <th className="px-3 py-2">#</th>
            <th className="px-3 py-2">When (UTC)</th>
            <th className="px-3 py-2">Actor</th>
            <th className="px-3 py-2">Action</th>
            <th className="px-3 py-2">Target</th>
            <th className="px-3 py-2">Details</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr
              key={r.id}
              data-event-id={r.id}
              className={`border-b border-slate-100 align-top ${r.id === brokenId ? "bg-red-50 outline outline-2 outline-red-400" : ""}`}
            >
              <td className="px-3 py-2 font-mono text-xs">{r.seq}</td>
              <td className="whitespace-nowrap px-3 py-2">{r.at.replace("T", " ").slice(0, 19)}</td>
              <td className="px-3 py-2">{r.actor}</td>
              <td className="px-3 py-2 font-mono text-xs">{r.action}</td>
              <td className="px-3 py-2 font-mono text-xs">{r.target ?? "—"}</td>
              <td className="max-w-md px-3 py-2">
                <code className="block truncate font-mono text-xs text-slate-600" title={JSON.stringify(r.data)}>
                  {JSON.stringify(r.data)}
                </code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
