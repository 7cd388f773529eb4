import type { Metadata } from "next";
import { ActionForm } from "@/components/action-form";
import { CellsTable } from "@/components/data-table/cells-table";
import { requirePageActor } from "@/lib/auth/session";
import { myNotices } from "@/lib/remediation";
import { objectAction } from "./actions";
import { stamp } from "@/components/format";

export const metadata: Metadata = { title: "Remediation notices" };
export const dynamic = "force-dynamic";

const fmt = (d: Date | null) => stamp(d, "");

export default async function RemediationNoticesPage() {
  const actor = await requirePageActor();
  const notices = await myNotices(actor);
  return (
    <div className="flex flex-col gap-5">
      <div>
        <h1 className="text-xl font-semibold">Remediation notices</h1>
        <p className="max-w-3xl text-slate-600">
          Remediation policies act on access nobody seems to need, after a notice period. Here is what they will do to access you own or
          manage. If it is still needed, object with a reason before the date: the policy leaves it alone and a reviewer decides it instead.
        </p>
      </div>
      <CellsTable
        label="Remediation notices"
        testId="remediation-notices"
        empty="No remediation notices for access you own or manage."
        columns={{ principal: "Who", change: "What the policy will do", policy: "Policy", due: "On (UTC)", objection: "Objection" }}
        rows={notices.map((n) => ({
          id: n.id,
          cells: {
            principal: n.principal,
            change: n.summary,
            policy: n.policy,
            due: fmt(n.dueAt),
            objection:
              n.status === "objected" ? (
                <span className="text-sm">Objected: {n.objectionReason}</span>
              ) : (
                <ActionForm action={objectAction} className="flex flex-col gap-1">
                  <input type="hidden" name="itemId" value={n.id} />
                  <label className="text-xs text-slate-600">
                    Why is it still needed?
                    <textarea name="reason" required minLength={10} maxLength={2000} rows={2} className="mt-1 block w-64 rounded border border-slate-300 p-1 text-sm" />
                  </label>
                  <button type="submit" className="self-start rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50">
                    Object
                  </button>
                </ActionForm>
              ),
          },
        }))}
      />
    </div>
  );
}
