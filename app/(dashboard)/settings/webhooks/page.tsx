import type { Metadata } from "next";
import { CellsTable, MONO } from "@/components/data-table/cells-table";
import { ActionForm, IdButtonForm } from "@/components/action-form";
import { Badge } from "@/components/badge";
import { CreateWebhookForm } from "@/components/settings/webhook-forms";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listWebhookDeliveries, listWebhooks } from "@/lib/webhooks/admin";
import { WEBHOOK_EVENTS } from "@/lib/webhooks/events";
import { deleteWebhookAction, retryWebhookDeliveryAction, setWebhookEnabledAction } from "./actions";
import { stamp } from "@/components/format";

export const metadata: Metadata = { title: "Webhooks" };
export const dynamic = "force-dynamic";

const fmt = (d: Date | null) => stamp(d, "");
const TONE = { delivered: "good", pending: "neutral", failed: "bad" } as const;

export default async function WebhooksPage() {
  const actor = await requirePageActor();
  if (!can(actor, "settings:write")) return <p role="alert">Webhooks are managed by admins only.</p>;
  const [hooks, deliveries] = await Promise.all([listWebhooks(actor), listWebhookDeliveries(actor, { take: 50 })]);
  return (
    <div className="max-w-5xl space-y-4">
      <h1 className="text-xl font-semibold">Webhooks</h1>
      <p className="max-w-3xl text-sm text-slate-600">
        Tollgate POSTs each subscribed event to the URL, signed with the webhook&apos;s secret (header <code>Tollgate-Signature: t=…,v1=…</code>, HMAC-SHA256 over
        <code> t.body</code>; see docs/ARCHITECTURE.md). A failed delivery is retried with backoff from the same outbox as proxy deliveries.
      </p>
      <CellsTable
        testId="webhooks-table"
        label="Webhooks"
        empty="No webhook yet."
        columns={{ name: "Name", url: ["URL", MONO], events: ["Events", MONO], format: "Payload", deliveries: "Deliveries", state: "State", actions: "" }}
        rows={hooks.map((h) => ({
          id: h.id,
          cells: {
            name: h.name,
            url: h.url,
            events: h.events.join(" "),
            format: h.format,
            deliveries: `${h.deliveries.delivered} delivered, ${h.deliveries.pending} pending, ${h.deliveries.failed} failed`,
            state: h.enabled ? <Badge tone="good">enabled</Badge> : <Badge tone="neutral">disabled</Badge>,
            actions: (
              <div className="flex gap-2">
                <ActionForm action={setWebhookEnabledAction}>
                  <input type="hidden" name="id" value={h.id} />
                  <input type="hidden" name="enabled" value={h.enabled ? "false" : "true"} />
                  <button type="submit" className="text-xs text-sky-800 underline">
                    {h.enabled ? "Disable" : "Enable"}
                  </button>
                </ActionForm>
                <IdButtonForm action={deleteWebhookAction} name="id" value={h.id} buttonClassName="text-xs text-red-700 underline">
                  Remove
                </IdButtonForm>
              </div>
            ),
          },
        }))}
      />
      <CreateWebhookForm events={WEBHOOK_EVENTS} />
      <h2 className="font-medium">Latest deliveries</h2>
      <CellsTable
        testId="webhook-deliveries"
        label="Webhook deliveries"
        empty="Nothing delivered yet."
        columns={{ created: "Created", webhook: "Webhook", event: ["Event", MONO], status: "Status", attempts: "Attempts", detail: "Last error / delivered", actions: "" }}
        rows={deliveries.map((d) => ({
          id: d.id,
          cells: {
            created: fmt(d.createdAt),
            webhook: d.webhook,
            event: d.event,
            status: <Badge tone={TONE[d.status]}>{d.status}</Badge>,
            attempts: d.attempts,
            detail: d.status === "delivered" ? fmt(d.deliveredAt) : (d.lastError ?? (d.status === "pending" ? `next try ${fmt(d.nextAttemptAt)}` : "")),
            actions:
              d.status === "failed" ? (
                <IdButtonForm action={retryWebhookDeliveryAction} name="id" value={d.id} buttonClassName="text-xs text-sky-800 underline">
                  Retry
                </IdButtonForm>
              ) : (
                ""
              ),
          },
        }))}
      />
    </div>
  );
}
