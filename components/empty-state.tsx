import Link from "next/link";

/** Shown instead of a table or chart when there is nothing to show, with a way forward. */
export function EmptyState({ title, children, action }: { title: string; children?: React.ReactNode; action?: { href: string; label: string } }) {
  return (
    <div className="rounded border border-dashed border-slate-300 bg-white px-6 py-10 text-center" data-testid="empty-state">
      <p className="font-medium text-slate-800">{title}</p>
      {children ? <div className="mt-1 text-slate-500">{children}</div> : null}
      {action ? (
        <Link href={action.href} className="mt-3 inline-block rounded border border-slate-300 px-3 py-1 text-slate-700 hover:bg-slate-50">
          {action.label}
        </Link>
      ) : null}
    </div>
  );
}
