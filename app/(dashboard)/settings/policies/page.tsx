import type { Metadata } from "next";
import Link from "next/link";
import { stamp, words } from "@/components/format";
import { z } from "zod";
import { ActionForm } from "@/components/action-form";
import { CellsTable, NUMERIC } from "@/components/data-table/cells-table";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { DEFAULT_NOTICE_DAYS, KIND_TITLES, REMEDIATION_KINDS, ROLLBACK_DAYS, listPolicies, listPolicyItems, previewPolicy } from "@/lib/remediation";
import { createPolicyAction, disablePolicyAction, enablePolicyAction, rollbackItemAction } from "./actions";

export const metadata: Metadata = { title: "Remediation policies" };
export const dynamic = "force-dynamic";

const selected = z.object({ policy: z.uuid().optional().catch(undefined) });
const fmt = (d: Date | null) => stamp(d, "");
const BUTTON = "rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50";

export default async function PoliciesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requirePageActor();
  if (!can(actor, "policies:manage")) return <p role="alert">Remediation policies are managed by admins only.</p>;
  const raw = await searchParams;
  const { policy: policyId } = selected.parse({ policy: typeof raw.policy === "string" ? raw.policy : undefined });
  const policies = await listPolicies(actor);
  const current = policies.find((p) => p.id === policyId) ?? null;
  return (
    <div className="flex flex-col gap-5">
      <div>
        <h1 className="text-xl font-semibold">Remediation policies</h1>
        <p className="max-w-3xl text-slate-600">
          Rules that remove access nobody seems to need, without a reviewer: owners and managers are notified first and may object during the
          notice period (an objection becomes a finding in the review queue); then the change goes through the same decision → proxy path as a
          reviewer&apos;s, signed by the policy and the admin who enabled it (a change the two-person rule covers becomes a proposal). Anything a
          policy removed can be restored in one action for {ROLLBACK_DAYS} days.
        </p>
      </div>
      <CellsTable
        label="Remediation policies"
        testId="remediation-policies"
        empty="No remediation policies yet."
        columns={{ name: "Policy", rule: "Rule", notice: ["Notice (days)", NUMERIC], status: "Status", noticed: ["Noticed", NUMERIC], objected: ["Objected", NUMERIC], executed: ["Executed", NUMERIC], rolledBack: ["Rolled back", NUMERIC] }}
        rows={policies.map((p) => ({
          id: p.id,
          cells: {
            name: <Link href={`/settings/policies?policy=${p.id}`} className="text-sky-800 hover:underline">{p.name}</Link>,
            rule: `${KIND_TITLES[p.kind]} (${p.days} days)`,
            notice: p.noticeDays,
            status: p.status === "enabled" ? `enabled by ${p.enabledBy ?? "?"}` : p.status,
            noticed: p.counts.noticed ?? 0,
            objected: p.counts.objected ?? 0,
            executed: (p.counts.executed ?? 0) + (p.counts.proposed ?? 0),
            rolledBack: p.counts.rolled_back ?? 0,
          },
        }))}
      />
      {current ? <PolicyDetail policy={current} /> : null}
      <ActionForm action={createPolicyAction} className="max-w-xl space-y-3 rounded border border-slate-200 bg-white p-4">
        <h2 className="font-medium">New policy (a draft: nothing happens until you enable it)</h2>
        <label className="block text-sm">
          Name
          <input name="name" required minLength={3} maxLength={100} className="mt-1 block w-full rounded border border-slate-300 p-1" />
        </label>
        <label className="block text-sm">
          Rule
          <select name="kind" className="mt-1 block w-full rounded border border-slate-300 p-1">
            {REMEDIATION_KINDS.map((k) => (
              <option key={k} value={k}>{KIND_TITLES[k]}</option>
            ))}
          </select>
        </label>
        <label className="block text-sm">
          Days (unused for, usage window, or since the key was issued)
          <input name="days" type="number" min={1} max={3650} defaultValue={30} required className="mt-1 block w-32 rounded border border-slate-300 p-1" />
        </label>
        <label className="block text-sm">
          Notice period (days)
          <input name="noticeDays" type="number" min={1} max={90} defaultValue={DEFAULT_NOTICE_DAYS} className="mt-1 block w-32 rounded border border-slate-300 p-1" />
        </label>
        <button type="submit" className="rounded bg-slate-900 px-3 py-1 text-sm text-white">Create draft</button>
      </ActionForm>
    </div>
  );
}

async function PolicyDetail({ policy }: { policy: Awaited<ReturnType<typeof listPolicies>>[number] }) {
  const actor = await requirePageActor();
  const [preview, items] = await Promise.all([previewPolicy(actor, { policyId: policy.id }), listPolicyItems(actor, policy.id)]);
  const now = Date.now();
  const canRollBack = (i: (typeof items)[number]) => (i.status === "executed" || i.status === "proposed") && i.executedAt && now - i.executedAt.getTime() <= ROLLBACK_DAYS * 86_400_000;
  return (
    <section aria-label={`Policy ${policy.name}`} className="space-y-3 rounded border border-slate-200 bg-white p-4">
      <div className="flex items-baseline justify-between gap-3">
        <h2 className="font-medium">{policy.name}</h2>
        <ActionForm action={policy.status === "enabled" ? disablePolicyAction : enablePolicyAction}>
          <input type="hidden" name="policyId" value={policy.id} />
          <button type="submit" className={BUTTON}>{policy.status === "enabled" ? "Disable" : `Enable (notify ${preview.count} now)`}</button>
        </ActionForm>
      </div>
      <div data-testid="policy-preview">
        <h3 className="text-sm font-medium">
          {policy.status === "enabled" ? "Next run" : "Preview"}: it would notice {preview.count} {policy.status === "enabled" ? "more " : ""}item{preview.count === 1 ? "" : "s"} now
        </h3>
        <p className="text-sm text-slate-600">{preview.byOwner.slice(0, 20).map((o) => `${o.owner}: ${o.count}`).join(" · ") || "nothing"}</p>
        <ul className="list-disc pl-5 text-sm">
          {preview.items.slice(0, 10).map((i, n) => (
            <li key={n}>{i.principal}{i.owner ? ` (owner ${i.owner})` : ""}: {i.summary}</li>
          ))}
        </ul>
      </div>
      <CellsTable
        label="Items"
        testId="policy-items"
        empty="No items yet."
        columns={{ principal: "Who", summary: "Change", status: "Status", due: "Due (UTC)", objection: "Objection", action: "" }}
        rows={items.map((i) => ({
          id: i.id,
          cells: {
            principal: i.principal,
            summary: i.summary,
            status: words(i.status),
            due: fmt(i.dueAt),
            objection: i.objectionReason ? (
              <span>{i.objectionReason}{i.findingId ? <> · <Link href="/queues" className="text-sky-800 hover:underline">finding in the queue</Link></> : null}</span>
            ) : "",
            action: canRollBack(i) ? (
              <ActionForm action={rollbackItemAction}>
                <input type="hidden" name="itemId" value={i.id} />
                <button type="submit" className={BUTTON}>Roll back</button>
              </ActionForm>
            ) : "",
          },
        }))}
      />
    </section>
  );
}
