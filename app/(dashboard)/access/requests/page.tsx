import type { Metadata } from "next";
import { RequestAccessForm } from "@/components/access/request-form";
import { RequestTable } from "@/components/access/request-table";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listMyRequests, PAGE_SIZE, requestFormOptions, requestListParams } from "@/lib/access/queries";

export const metadata: Metadata = { title: "My access requests" };
export const dynamic = "force-dynamic";

export default async function MyRequestsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requirePageActor();
  if (!can(actor, "access:request")) return <p role="alert">You cannot request access.</p>;
  const params = requestListParams.parse({ status: "all", ...(await searchParams) });
  const [options, list] = await Promise.all([requestFormOptions(actor), listMyRequests(actor, params)]);
  return (
    <div className="flex flex-col gap-5">
      <h1 className="text-xl font-semibold">My access requests</h1>
      <p className="max-w-3xl text-slate-600">
        Ask for scopes of one API for a limited time, for yourself or a service account you own. The API&apos;s owning team approves;
        the access ends by itself at the proxy. To extend, make a new request before the end.
      </p>
      {options.principals.length > 0 ? <RequestAccessForm options={options} /> : <p>You have no identity here to request access for.</p>}
      <RequestTable {...list} page={params.page} pageSize={PAGE_SIZE} status={params.status} basePath="/access/requests" />
    </div>
  );
}
