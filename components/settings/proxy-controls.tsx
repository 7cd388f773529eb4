"use client";
import { useState, useTransition } from "react";
import { ActionForm } from "@/components/action-form";
import { editProxyAction, testProxyAction } from "@/app/(dashboard)/settings/proxies/actions";

/** Per proxy: "Test connection" (one authenticated read, nothing written) and an edit form (updateProxy). */
export function ProxyControls({
  proxy,
  environments,
}: {
  proxy: { id: string; name: string; adminUrl: string; environmentId: string };
  environments: { id: string; name: string }[];
}) {
  const [busy, start] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [editing, setEditing] = useState(false);
  const input = "rounded border border-slate-300 px-1";
  return (
    <div className="flex flex-col items-start gap-1">
      <div className="flex gap-2">
        <button
          type="button"
          disabled={busy}
          className="text-xs text-sky-800 underline disabled:opacity-50"
          onClick={() =>
            start(async () => {
              const r = await testProxyAction({ id: proxy.id });
              setResult(r.ok ? { ok: r.data.ok, text: r.data.message } : { ok: false, text: r.error.message });
            })
          }
        >
          {busy ? "Testing…" : "Test connection"}
        </button>
        <button type="button" aria-expanded={editing} className="text-xs text-sky-800 underline" onClick={() => setEditing(!editing)}>
          Edit
        </button>
      </div>
      {result ? (
        <p role={result.ok ? "status" : "alert"} data-testid="proxy-test-result" className={`text-xs ${result.ok ? "text-emerald-800" : "text-red-800"}`}>
          {result.text}
        </p>
      ) : null}
      {editing ? (
        <ActionForm action={editProxyAction} messageClassName="col-span-2" className="grid grid-cols-[6rem_14rem] items-center gap-1 text-xs">
          <input type="hidden" name="id" value={proxy.id} />
          <label htmlFor={`name-${proxy.id}`}>Name</label>
          <input id={`name-${proxy.id}`} name="name" defaultValue={proxy.name} required className={input} />
          <label htmlFor={`url-${proxy.id}`}>Admin URL</label>
          <input id={`url-${proxy.id}`} name="adminUrl" defaultValue={proxy.adminUrl} required className={input} />
          <label htmlFor={`token-${proxy.id}`}>New token</label>
          <input id={`token-${proxy.id}`} name="adminToken" type="password" autoComplete="off" placeholder="unchanged" className={input} />
          <label htmlFor={`env-${proxy.id}`}>Environment</label>
          <select id={`env-${proxy.id}`} name="environmentId" defaultValue={proxy.environmentId} className={input}>
            {environments.map((e) => (
              <option key={e.id} value={e.id}>
                {e.name}
              </option>
            ))}
          </select>
          <div />
          <button type="submit" className="justify-self-start rounded bg-slate-800 px-2 py-0.5 text-white">
            Save proxy
          </button>
        </ActionForm>
      ) : null}
    </div>
  );
}
