import type { Metadata } from "next";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listServiceTokens, SERVICE_TOKEN_SCOPES } from "@/lib/auth/token-admin";
import { CreateTokenForm, RevokeTokenButton } from "@/components/auth/token-forms";

export const metadata: Metadata = { title: "Service tokens" };
export const dynamic = "force-dynamic";

const fmt = (iso: string | null) => (iso ? iso.replace("T", " ").slice(0, 16) : "never");

export default async function TokensPage() {
  const actor = await requirePageActor();
  if (!can(actor, "tokens:manage")) return <p role="alert">Service tokens are managed by admins only.</p>;
  const tokens = await listServiceTokens(actor);
  return (
    <div className="flex flex-col gap-5">
      <h1 className="text-xl font-semibold">Service tokens</h1>
      <p className="max-w-2xl text-slate-600">
        Tokens let integrations (the enforcement proxy, importers, SCIM) call Tollgate. A token is shown once when created;
        Tollgate keeps only its SHA-256 hash.
      </p>
      <CreateTokenForm scopes={SERVICE_TOKEN_SCOPES} />
      <div className="overflow-x-auto rounded border border-slate-200 bg-white">
        <table className="w-full text-left">
          <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase text-slate-500">
            <tr>
              <th className="px-3 py-2">Name</th>
              <th className="px-3 py-2">Prefix</th>
              <th className="px-3 py-2">Scopes</th>
              <th className="px-3 py-2">Created</th>
              <th className="px-3 py-2">Last used</th>
              <th className="px-3 py-2">Status</th>
              <th className="px-3 py-2" />
            </tr>
          </thead>
          <tbody>
            {tokens.length === 0 && (
              <tr>
                <td colSpan={7} className="px-3 py-4 text-slate-500">
                  No service tokens yet.
                </td>
              </tr>
            )}
            {tokens.map((t) => (
              <tr key={t.id} className="border-b border-slate-100" data-token-id={t.id}>
                <td className="px-3 py-2 font-medium">{t.name}</td>
                <td className="px-3 py-2 font-mono text-xs">{t.prefix}…</td>
                <td className="px-3 py-2 font-mono text-xs">{t.scopes.join(" ")}</td>
                <td className="px-3 py-2">
                  {fmt(t.createdAt)}
                  {t.createdBy && <div className="text-xs text-slate-500">{t.createdBy}</div>}
                </td>
                <td className="px-3 py-2">{fmt(t.lastUsedAt)}</td>
                <td className="px-3 py-2">{t.revokedAt ? <span className="text-red-700">revoked {fmt(t.revokedAt)}</span> : "active"}</td>
                <td className="px-3 py-2 text-right">{!t.revokedAt && <RevokeTokenButton tokenId={t.id} name={t.name} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
