"use client";
import { useActionState } from "react";
import { createWebhookAction } from "@/app/(dashboard)/settings/webhooks/actions";
import { ShownOnceResult } from "@/components/shown-once";

/** The "Add a webhook" form: validation errors name the field; the signing secret is shown once. */
export function CreateWebhookForm({ events }: { events: readonly string[] }) {
  const [state, formAction, pending] = useActionState(createWebhookAction, null);
  return (
    <div className="flex flex-col gap-3">
      <form action={formAction} className="grid max-w-2xl grid-cols-[8rem_1fr] items-center gap-2 rounded border border-slate-200 bg-white p-4 text-sm">
        <h2 className="col-span-2 font-medium">Add a webhook</h2>
        <label htmlFor="webhook-name">Name</label>
        <input id="webhook-name" name="name" required maxLength={100} placeholder="soc-alerts" className="rounded border border-slate-300 px-1" />
        <label htmlFor="webhook-url">URL</label>
        <input id="webhook-url" name="url" required placeholder="https://hooks.example.com/tollgate" className="rounded border border-slate-300 px-1" />
        <span>Events</span>
        <fieldset className="flex flex-wrap gap-3">
          <legend className="sr-only">Events</legend>
          {events.map((e) => (
            <label key={e} className="flex items-center gap-1 font-mono text-xs">
              <input type="checkbox" name="events" value={e} /> {e}
            </label>
          ))}
        </fieldset>
        <label htmlFor="webhook-format">Payload</label>
        <select id="webhook-format" name="format" defaultValue="tollgate" className="justify-self-start rounded border border-slate-300 px-1">
          <option value="tollgate">Tollgate event (JSON)</option>
          <option value="slack">Slack-compatible ({"{ text }"})</option>
        </select>
        <div />
        <button type="submit" disabled={pending} className="justify-self-start rounded bg-slate-800 px-3 py-1 text-white disabled:opacity-60">
          Add webhook
        </button>
      </form>
      <ShownOnceResult
        state={state}
        className="max-w-2xl text-sm"
        testId="webhook-secret"
        message={(d) => `Webhook “${d.name}” added. Copy its signing secret now: it will not be shown again.`}
        secret={(d) => d.secret}
      />
    </div>
  );
}
