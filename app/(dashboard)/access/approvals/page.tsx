import type { Metadata } from "next";
import { ApprovalInbox } from "@/components/access/approval-inbox";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listApprovalInbox, PAGE_SIZE, requestListParams } from "@/lib/access/queries";

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
      <ApprovalInbox {...list} page={params.page} pageSize={PAGE_SIZE} status={params.status} />
    </div>
  );
}
