import { CellsTable, MONO } from "@/components/data-table/cells-table";
import type { Metadata } from "next";
import { ActionForm, IdButtonForm } from "@/components/action-form";
import { IssueKeyForm, RotateKeyForm } from "@/components/access/key-forms";
import { Badge, type BadgeTone } from "@/components/badge";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { latestChanges, listManagedServiceAccounts, serviceAccountFormOptions } from "@/lib/access/service-accounts";
import { createServiceAccountAction, revokeAllKeysAction, revokeKeyAction } from "./actions";
import { stamp, words } from "@/components/format";

export const metadata: Metadata = { title: "Service accounts & keys" };
export const dynamic = "force-dynamic";

const fmt = (d: Date | null) => stamp(d);
const ENFORCEMENT_TONE: Record<string, BadgeTone> = { applied: "good", pending: "warn", failed: "bad", not_required: "neutral" };

function keyState(c: { revokedAt: Date | null; expiresAt: Date | null; rotatedAt: Date | null }, now: Date): { label: string; tone: BadgeTone } {
  if (c.revokedAt) return { label: "revoked", tone: "bad" };
  if (c.expiresAt && c.expiresAt <= now) return { label: "expired", tone: "warn" };
  // A rotation gives the old key an end (the overlap); a rotatedAt without one is an imported date, not an overlap.
  if (c.rotatedAt && c.expiresAt) return { label: `rotated, works until ${fmt(c.expiresAt)}`, tone: "warn" };
  return { label: "active", tone: "good" };
}

export default async function KeysPage() {
  const actor = await requirePageActor();
  if (!can(actor, "credentials:manage")) return <p role="alert">You cannot manage keys.</p>;
  const accounts = await listManagedServiceAccounts(actor);
  const changes = await latestChanges(accounts.map((a) => a.id));
  const options = can(actor, "serviceAccounts:create") ? await serviceAccountFormOptions(actor) : null;
  const now = new Date();
  return (
    <div className="flex flex-col gap-5">
      <h1 className="text-xl font-semibold">Service accounts &amp; API keys</h1>
      <p className="max-w-3xl text-slate-600">
        Keys are issued here, shown once, and stored only as a SHA-256 hash and a display prefix. Every issue, rotation and revocation
        is sent to the proxies of the account&apos;s environment; the badge shows when they all acknowledged it.
      </p>
      {options && (
        <ActionForm action={createServiceAccountAction} className="flex flex-wrap items-end gap-3 rounded border border-slate-200 bg-white p-3">
          <label className="flex flex-col text-xs text-slate-600">
            Name
            <input name="name" required maxLength={200} className="rounded border border-slate-300 px-2 py-1" />
          </label>
          {(
            [
              ["teamId", "Owning team", options.teams.map((t) => [t.id, t.name])],
              ["ownerPrincipalId", "Accountable owner", options.people.map((p) => [p.id, p.displayName])],
              ["environmentId", "Environment", options.environments.map((e) => [e.id, e.name])],
            ] as const
          ).map(([name, label, items]) => (
            <label key={name} className="flex flex-col text-xs text-slate-600">
              {label}
              <select name={name} required className="rounded border border-slate-300 px-2 py-1">
                {items.map(([id, text]) => (
                  <option key={id} value={id}>
                    {text}
                  </option>
                ))}
              </select>
            </label>
          ))}
          <button type="submit" className="rounded bg-slate-900 px-3 py-1.5 text-white">
            Create service account
          </button>
        </ActionForm>
      )}
      {accounts.length === 0 && <p className="text-slate-500">No service accounts you own or manage.</p>}
      {accounts.map((a) => {
        const change = changes.get(a.id);
        return (
          <section key={a.id} aria-label={a.displayName} data-principal-id={a.id} className="rounded border border-slate-200 bg-white p-3">
            <header className="flex flex-wrap items-center gap-3">
              <h2 className="font-medium">{a.displayName}</h2>
              <span className="text-xs text-slate-500">
                {a.team?.name ?? "no team"} · owner {a.manager?.displayName ?? "none"} · {a.homeEnvironment?.name ?? "all environments"}
              </span>
              {change && (
                <Badge tone={ENFORCEMENT_TONE[change.enforcement] ?? "neutral"} title={`last change ${change.kind} at ${fmt(change.createdAt)}`}>
                  <span data-testid="enforcement">
                    {words(change.kind)}: {change.enforcement === "applied" ? `enforced ${fmt(change.enforcedAt)}` : change.enforcement}
                  </span>
                </Badge>
              )}
              <ActionForm action={revokeAllKeysAction} className="ml-auto flex items-center gap-2">
                <input type="hidden" name="principalId" value={a.id} />
                <button type="submit" className="rounded border border-red-300 px-2 py-1 text-xs text-red-700 hover:bg-red-50">
                  Revoke every key
                </button>
              </ActionForm>
            </header>
            <div className="mt-2">
              <CellsTable
                label={`Keys of ${a.displayName}`}
                empty="No keys."
                columns={{ prefix: ["Prefix", MONO], issued: "Issued", expires: "Expires", state: "State", actions: "" }}
                rows={a.credentials.map((c) => {
                  const s = keyState(c, now);
                  // Kept mounted after a rotation (the row turns "rotated"): it holds the new key, shown once.
                  const rotating = s.label === "active" || s.label.startsWith("rotated");
                  return {
                    id: c.id,
                    data: { "data-credential-id": c.id },
                    cells: {
                      prefix: `${c.prefix}…`,
                      issued: fmt(c.createdAt),
                      expires: fmt(c.expiresAt),
                      state: <Badge tone={s.tone}>{s.label}</Badge>,
                      actions: (
                        <div className="flex flex-wrap items-start justify-end gap-2">
                          {rotating && <RotateKeyForm credentialId={c.id} prefix={c.prefix} />}
                          {!c.revokedAt && (
                            <IdButtonForm action={revokeKeyAction} name="credentialId" value={c.id} buttonClassName="rounded border border-red-300 px-2 py-0.5 text-xs text-red-700">
                              Revoke
                            </IdButtonForm>
                          )}
                        </div>
                      ),
                    },
                  };
                })}
              />
            </div>
            <div className="mt-2">
              <IssueKeyForm principalId={a.id} />
            </div>
          </section>
        );
      })}
    </div>
  );
}
