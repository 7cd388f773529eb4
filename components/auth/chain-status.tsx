import type { AuditLogVerification } from "@/lib/audit/verify";

/** The Audit page's verification result: the same problems, in the same words, as `npm run audit:verify`. */
export function ChainStatus({ result }: { result: AuditLogVerification }) {
  const matched = result.checkpoints.filter((c) => c.status === "ok").length;
  const notes =
    result.notes.length > 0 ? (
      <ul className="mt-1 list-disc pl-5 text-xs">
        {result.notes.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
    ) : null;
  if (result.ok) {
    return (
      <div role="status" data-testid="chain-status" className="rounded border border-green-200 bg-green-50 px-3 py-2 text-green-900">
        <p>
          Chain intact: {result.chain.checked} events verified. Head hash <code className="font-mono text-xs">{result.chain.headHash}</code>
          {result.chain.headSeq ? ` (seq ${result.chain.headSeq})` : ""}.
        </p>
        <p>{matched} signed checkpoint{matched === 1 ? "" : "s"} match the log.</p>
        {notes}
      </div>
    );
  }
  const b = result.chain.firstBroken;
  return (
    <div role="alert" data-testid="chain-status" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-red-900">
      <p className="font-semibold">{b ? `Chain broken at event #${b.seq}` : "Audit log verification failed"}</p>
      {b && (
        <p>
          <code className="font-mono text-xs">{b.id}</code> · {b.action} · {b.at}
        </p>
      )}
      <ul className="list-disc pl-5">
        {result.problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
      <p className="text-xs">
        {result.chain.checked} events verified before the first break; {matched} checkpoints matched.
      </p>
      {notes}
    </div>
  );
}
