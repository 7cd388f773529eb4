/**
 * An audit event's data: one line (the JSON, cut to the cell) that opens into the whole of it, pretty-printed,
 * instead of a single truncated line. The opened block scrolls on its own and can take focus, so a keyboard
 * user can scroll it too.
 */
export function AuditDetails({ data }: { data: unknown }) {
  if (data === null || data === undefined || (typeof data === "object" && Object.keys(data).length === 0)) return <span className="text-slate-600">—</span>;
  const line = JSON.stringify(data);
  return (
    <details className="max-w-md" data-testid="audit-details">
      <summary className="cursor-pointer truncate font-mono text-xs text-slate-700 hover:text-slate-900">{line}</summary>
      <pre tabIndex={0} aria-label="Event data" className="mt-1 max-h-80 overflow-auto whitespace-pre-wrap break-all rounded bg-slate-50 p-2 font-mono text-xs text-slate-800">
        {JSON.stringify(data, null, 2)}
      </pre>
    </details>
  );
}
