"use client";
import { useState } from "react";
import { IdButtonForm } from "@/components/action-form";
import type { FormState } from "@/lib/action";

/**
 * Deregistering drops the proxy's undelivered decisions, so it takes a second,
 * explicit click that says what will happen.
 */
export function DeregisterProxy({
  action,
  proxy,
}: {
  action: (prev: FormState<string>, form: FormData) => Promise<FormState<string>>;
  proxy: { id: string; name: string; pendingDeliveries: number };
}) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" onClick={() => setAsking(true)} className="text-xs text-red-700 underline">
        Deregister
      </button>
    );
  return (
    <div role="group" aria-label={`Confirm deregistering ${proxy.name}`} className="space-y-1 text-xs">
      <p>
        Deregister {proxy.name}? {proxy.pendingDeliveries} undelivered decision{proxy.pendingDeliveries === 1 ? "" : "s"} will be dropped for it, and
        decisions stop waiting on it.
      </p>
      <div className="flex gap-2">
        <IdButtonForm action={action} name="id" value={proxy.id} buttonClassName="rounded bg-red-700 px-2 py-0.5 text-white">
          Confirm deregister
        </IdButtonForm>
        <button type="button" onClick={() => setAsking(false)} className="underline">
          Cancel
        </button>
      </div>
    </div>
  );
}
