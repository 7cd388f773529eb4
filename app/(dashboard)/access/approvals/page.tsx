import type { Metadata } from "next";
import { ActionForm, IdButtonForm } from "@/components/action-form";
import { RequestTable } from "@/components/access/request-table";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listApprovalInbox, PAGE_SIZE, requestListParams } from "@/lib/access/queries";
import { approveRequestAction, denyRequestAction } from "../actions";

export const metadata: Metadata = { title: "Access approvals" };
export const dynamic = "force-dynamic";

export default async function ApprovalsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requirePageActor();
  if (!can(actor, "access:approve")) return <p role="alert">Access requests are approved by reviewers and managers of the API&apos;s team.</p>;
  const params = requestListParams.parse(await searchParams);
  const list = await listApprovalInbox(actor, params);
  return (
    <div className="flex flex-col gap-5">
      <h1 className="text-xl font-semibold">Access approvals</h1>
      <RequestTable
        {...list}
        page={params.page}
        pageSize={PAGE_SIZE}
        status={params.status}
        basePath="/access/approvals"
        actions={(r) =>
          r.status === "pending" && !r.approvedByMe ? (
            <div className="flex flex-col gap-2">
              <IdButtonForm action={approveRequestAction} name="requestId" value={r.id} buttonClassName="rounded bg-emerald-700 px-2 py-1 text-xs text-white">
                Approve
              </IdButtonForm>
              <ActionForm action={denyRequestAction} className="flex flex-col gap-1">
                <input type="hidden" name="requestId" value={r.id} />
                <input name="reason" required maxLength={2000} aria-label="Reason for denial" placeholder="Reason for denial" className="rounded border border-slate-300 px-1 py-0.5 text-xs" />
                <button type="submit" className="rounded border border-red-300 px-2 py-1 text-xs text-red-700">
                  Deny
                </button>
              </ActionForm>
            </div>
          ) : null
        }
      />
    </div>
  );
}
