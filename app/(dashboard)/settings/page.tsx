import type { Metadata } from "next";
import Link from "next/link";
import { ActionForm } from "@/components/action-form";
import { requirePageActor } from "@/lib/auth/session";
import { can } from "@/lib/auth/actor";
import { getSettings } from "@/lib/settings";
import { queueFilterOptions } from "@/lib/review";
import { auditKeyInfo, type AuditKeyInfo } from "@/lib/audit/key-info";
import { environmentAccessMaximums } from "@/lib/access/queries";
import { DEFAULT_MAX_ACCESS_HOURS } from "@/lib/access/requests";
import { loadTwoPersonRule } from "@/lib/auth/sod";
import { saveAccessMaxAction, saveThresholdsAction, saveTwoPersonRuleAction } from "./actions";

export const metadata: Metadata = { title: "Settings" };
export const dynamic = "force-dynamic";

const FIELDS = [
  ["dormancyDays", "Dormancy window (days)", "A grant unused for this long is dormant."],
  ["graceDays", "Grace for new grants (days)", "Added to the window before a new grant can be called unused."],
  ["staleFeedDays", "Stale usage feed (days)", "If a proxy has not reported for longer, dormancy findings in its environment are held back."],
  ["credentialRotationDays", "Credential rotation (days)", "Credentials older than this are flagged."],
  ["proxyDegradedMinutes", "Proxy degraded after (minutes)", "A proxy unreachable for longer is shown as degraded and admins are notified."],
] as const;

export default async function SettingsPage() {
  const actor = await requirePageActor();
  const [settings, options, twoPerson] = await Promise.all([getSettings(actor), queueFilterOptions(actor), loadTwoPersonRule()]);
  const editable = can(actor, "settings:write");
  const auditKey = can(actor, "audit:read") ? await auditKeyInfo(actor) : null;
  return (
    <div className="max-w-2xl space-y-4">
      <div className="flex items-baseline justify-between">
        <h1 className="text-xl font-semibold">Settings</h1>
        <nav className="flex gap-3 text-sm text-sky-800">
          {can(actor, "proxies:manage") ? <Link href="/settings/proxies">Enforcement proxies</Link> : null}
          <Link href="/settings/tokens">Service tokens</Link>
          {can(actor, "policies:manage") ? <Link href="/settings/policies">Remediation policies</Link> : null}
          {editable ? <Link href="/settings/webhooks">Webhooks</Link> : null}
        </nav>
      </div>
      <ActionForm action={saveThresholdsAction} className="space-y-3 rounded border border-slate-200 bg-white p-4">
        <h2 className="font-medium">Analysis thresholds</h2>
        <fieldset disabled={!editable} className="space-y-3">
          {FIELDS.map(([key, label, help]) => (
            <label key={key} className="block text-sm">
              <span className="font-medium">{label}</span>
              <input type="number" name={key} min={key === "graceDays" ? 0 : 1} required defaultValue={settings[key]} className="ml-2 w-24 rounded border border-slate-300 px-1" />
              <span className="block text-xs text-slate-500">{help}</span>
            </label>
          ))}
          <div className="text-sm">
            <span className="font-medium">Dormancy window per environment</span> <span className="text-xs text-slate-500">(empty = the default above)</span>
            {options.environments.map((e) => (
              <label key={e.id} className="mt-1 flex items-center gap-2">
                <span className="w-40">{e.name}</span>
                <input type="number" min={1} name={`env:${e.id}`} defaultValue={settings.dormancyDaysByEnvironment[e.id] ?? ""} className="w-24 rounded border border-slate-300 px-1" />
              </label>
            ))}
          </div>
          {editable ? <button type="submit" className="rounded bg-slate-800 px-3 py-1 text-white">Save thresholds</button> : <p className="text-xs text-slate-500">Only admins can change thresholds.</p>}
        </fieldset>
      </ActionForm>
      <ActionForm action={saveTwoPersonRuleAction} className="space-y-2 rounded border border-slate-200 bg-white p-4 text-sm">
        <h2 className="font-medium">Two-person rule</h2>
        <p className="text-xs text-slate-500">Revokes, reduces and approvals of these scope levels in these environments wait for a second reviewer before they apply.</p>
        <fieldset disabled={!editable} className="space-y-2" data-testid="two-person-rule">
          <label className="flex items-center gap-2">
            <input type="checkbox" name="enabled" defaultChecked={twoPerson.enabled} /> Require a second reviewer
          </label>
          <div className="flex items-center gap-3">
            <span className="font-medium">Scope levels</span>
            {(["read", "write", "admin"] as const).map((l) => (
              <label key={l} className="flex items-center gap-1">
                <input type="checkbox" name="levels" value={l} defaultChecked={twoPerson.levels.includes(l)} /> {l}
              </label>
            ))}
          </div>
          <label className="block">
            <span className="font-medium">Environments</span> <span className="text-xs text-slate-500">(tiers or names, comma-separated)</span>
            <input name="environments" defaultValue={twoPerson.environments.join(", ")} className="mt-1 block w-full rounded border border-slate-300 px-1" />
          </label>
          {editable ? <button type="submit" className="rounded bg-slate-800 px-3 py-1 text-white">Save two-person rule</button> : <p className="text-xs text-slate-500">Only admins can change the two-person rule.</p>}
        </fieldset>
      </ActionForm>
      {editable ? <AccessMaximumsSection environments={await environmentAccessMaximums(actor)} /> : null}
      {auditKey ? <AuditKeySection info={auditKey} /> : null}
    </div>
  );
}

/** How long an access request may ask for, per environment (docs/SECURITY.md, "Granting access"). */
function AccessMaximumsSection({ environments }: { environments: { id: string; name: string; maxAccessHours: number | null }[] }) {
  return (
    <section aria-labelledby="access-max" className="space-y-2 rounded border border-slate-200 bg-white p-4 text-sm">
      <h2 id="access-max" className="font-medium">Longest access request per environment</h2>
      <p className="text-xs text-slate-500">In hours; empty = the default ({DEFAULT_MAX_ACCESS_HOURS / 24} days). A longer request is refused, naming the limit.</p>
      {environments.map((e) => (
        <ActionForm key={e.id} action={saveAccessMaxAction} className="flex flex-wrap items-center gap-2" messageClassName="py-0.5">
          <input type="hidden" name="environmentId" value={e.id} />
          <label className="flex items-center gap-2">
            <span className="w-40">{e.name}</span>
            <input type="number" name="maxAccessHours" min={1} max={24 * 366} defaultValue={e.maxAccessHours ?? ""} aria-label={`Longest access in ${e.name} (hours)`} className="w-24 rounded border border-slate-300 px-1" />
          </label>
          <button type="submit" className="rounded border border-slate-300 px-2 py-0.5">
            Save
          </button>
        </ActionForm>
      ))}
    </section>
  );
}

/** The public half of the audit signing key, for auditors (docs/SECURITY.md, "Signed audit checkpoints"). */
function AuditKeySection({ info }: { info: AuditKeyInfo }) {
  return (
    <section aria-labelledby="audit-key" className="space-y-2 rounded border border-slate-200 bg-white p-4 text-sm">
      <h2 id="audit-key" className="font-medium">Audit signing key</h2>
      {info.error ? <p role="alert" className="rounded bg-red-50 p-2 text-red-800">The audit signing key cannot be loaded: {info.error}</p> : null}
      {!info.configured && !info.error ? (
        <p role="alert" className="rounded bg-amber-50 p-2 text-amber-900">
          No audit signing key is configured (TOLLGATE_AUDIT_SIGNING_KEY_FILE): no signed checkpoints are made, so deleting the newest audit events cannot be detected.
        </p>
      ) : null}
      {info.publicKeyPem ? (
        <>
          <p>
            Checkpoints of the audit chain are signed with Ed25519 key <code className="font-mono" data-testid="audit-key-id">{info.keyId}</code>. Give this public key to your auditors; they verify
            exports and checkpoints with it (docs/SECURITY.md, &ldquo;Verifying an export&rdquo;).
          </p>
          <pre data-testid="audit-public-key" className="overflow-x-auto rounded bg-slate-50 p-2 font-mono text-xs">{info.publicKeyPem}</pre>
        </>
      ) : null}
      <p className="text-xs text-slate-600">
        Checkpoint file: {info.checkpointFile ? <code className="font-mono">{info.checkpointFile}</code> : "not configured (TOLLGATE_AUDIT_CHECKPOINT_DIR)"}
        {" · "}Latest checkpoint: {info.latest ? <code className="font-mono">{info.latest.message}</code> : "none yet"}
      </p>
      {info.publish && (info.publish.pending > 0 || info.publish.lastError) ? (
        <p role="alert" className="text-sm text-red-700" data-testid="audit-publish-status">
          {info.publish.pending} checkpoint(s) not yet written to the checkpoint file
          {info.publish.lastError ? ` (last error at ${info.publish.lastErrorAt}: ${info.publish.lastError}; retrying)` : ""}.
        </p>
      ) : null}
    </section>
  );
}
