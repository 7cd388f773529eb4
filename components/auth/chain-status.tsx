import type { ChainVerification } from "@/lib/audit/chain";

export function ChainStatus({ result }: { result: ChainVerification }) {
  if (result.ok) {
    return (
      <p role="status" data-testid="chain-status" className="rounded border border-green-200 bg-green-50 px-3 py-2 text-green-900">
        Chain intact: {result.checked} events verified. Head hash <code className="font-mono text-xs">{result.headHash}</code>
      </p>
    );
  }
  const b = result.firstBroken!;
  return (
    <div role="alert" data-testid="chain-status" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-red-900">
      <p className="font-semibold">Chain broken at event #{b.seq}</p>
      <p>
        <code className="font-mono text-xs">{b.id}</code> · {b.action} · {b.at}
      </p>
      <p>{b.reason}. {result.checked} earlier events verified.</p>
    </div>
  );
}
