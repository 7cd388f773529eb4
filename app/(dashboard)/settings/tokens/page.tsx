import { CellsTable, MONO, NUMERIC } from "@/components/data-table/cells-table";
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
      <CellsTable
        label="Service tokens"
        empty="No service tokens yet."
        columns={{ name: ["Name", { className: "font-medium" }], prefix: ["Prefix", MONO], scopes: ["Scopes", MONO], created: "Created", lastUsed: "Last used", status: "Status", actions: ["", NUMERIC] }}
        rows={tokens.map((t) => ({
          id: t.id,
          data: { "data-token-id": t.id },
          cells: {
            name: t.name,
            prefix: `${t.prefix}…`,
            scopes: t.scopes.join(" "),
            created: (
              <>
                {fmt(t.createdAt)}
                {t.createdBy && <div className="text-xs text-slate-500">{t.createdBy}</div>}
              </>
            ),
            lastUsed: fmt(t.lastUsedAt),
            status: t.revokedAt ? <span className="text-red-700">revoked {fmt(t.revokedAt)}</span> : "active",
            actions: t.revokedAt ? "" : <RevokeTokenButton tokenId={t.id} name={t.name} />,
          },
        }))}
      />
    </div>
  );
}
