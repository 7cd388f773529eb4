import { CellsTable, MONO } from "@/components/data-table/cells-table";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Badge, levelTone, statusTone } from "@/components/badge";
import { EmptyState } from "@/components/empty-state";
import { number } from "@/components/format";
import { When } from "@/components/when";
import { requirePageActor } from "@/lib/auth/session";
import { getApi } from "@/lib/inventory";
import { can } from "@/lib/auth/actor";
import { OpenApiUpload } from "@/components/discovery/openapi-upload";
import { ScopeLevelSelect } from "@/components/discovery/scope-level-select";

export const metadata: Metadata = { title: "API" };
export const dynamic = "force-dynamic";

const SENSITIVITY_TONE = { low: "neutral", medium: "info", high: "warn", critical: "bad" } as const;

export default async function ApiPage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requirePageActor();
  const api = await getApi(actor, (await params).id);
  if (!api) notFound();
  const now = Date.now();
  return (
    <div className="space-y-6">
      <div>
        <div className="text-xs text-slate-500"><Link href="/apis" className="hover:underline">APIs</Link> /</div>
        <h1 className="text-xl font-semibold">
          {api.name} <Badge tone={api.environment === "production" ? "info" : "neutral"}>{api.environment}</Badge>
        </h1>
        <p className="text-slate-600">
          {api.description ?? ""} · owner {api.team ?? "—"} · <span className="font-mono text-xs">{api.baseUrl}</span>
        </p>
      </div>

      {can(actor, "imports:write") ? <OpenApiUpload apiName={api.name} environment={api.environment} /> : null}

      <section aria-labelledby="endpoints">
        <h2 id="endpoints" className="mb-2 font-medium">Endpoints ({api.endpoints.length})</h2>
        {api.endpoints.length === 0 ? (
          <EmptyState title="No endpoints recorded for this API" />
        ) : (
          <CellsTable
            testId="endpoints-table"
            label="Endpoints"
            columns={{ method: ["Method", { className: "font-mono text-xs font-semibold" }], path: ["Path", MONO], scopes: "Required scopes", sensitivity: "Sensitivity" }}
            rows={api.endpoints.map((e) => ({
              id: e.id,
              cells: {
                method: e.method,
                path: (
                  <>
                    {e.pathTemplate}
                    {e.public ? <Badge>public</Badge> : null}
                    {e.deprecated ? <Badge tone="warn">deprecated</Badge> : null}
                  </>
                ),
                scopes: <Requirements endpoint={e} />,
                sensitivity: <Badge tone={SENSITIVITY_TONE[e.sensitivity as keyof typeof SENSITIVITY_TONE] ?? "neutral"}>{e.sensitivity}</Badge>,
              },
            }))}
          />
        )}
      </section>

      <section aria-labelledby="scopes">
        <h2 id="scopes" className="mb-2 font-medium">Scopes and who holds them</h2>
        {api.scopes.length === 0 ? <EmptyState title="This API defines no scopes" /> : null}
        <div className="grid gap-3 lg:grid-cols-2">
          {api.scopes.map((s) => (
            <div key={s.id} className="rounded border border-slate-200 bg-white" data-testid="scope-card">
              <div className="flex items-center justify-between border-b border-slate-100 px-3 py-2">
                <div className="flex items-center gap-2">
                  <code className="font-mono text-sm font-semibold">{s.name}</code>
                  {can(actor, "inventory:write") ? (
                    <ScopeLevelSelect scopeId={s.id} level={s.level as "read" | "write" | "admin"} />
                  ) : (
                    <Badge tone={levelTone(s.level)}>{s.level}</Badge>
                  )}
                </div>
                <Link href={`/grants?scope=${s.id}&api=${api.id}&status=active`} className="text-xs text-sky-800 hover:underline">
                  {number(s.activeGrants)} active grant{s.activeGrants === 1 ? "" : "s"} →
                </Link>
              </div>
              {s.levelEvidence.length || s.levelSetBy ? (
                <p className="border-b border-slate-100 px-3 py-1 text-xs text-slate-500" data-testid="scope-level-evidence">
                  {s.levelSetBy ? `Level set by ${s.levelSetBy}. ` : "Level inferred: "}
                  {s.levelEvidence.join("; ")}
                </p>
              ) : null}
              {s.holders.length === 0 ? (
                <p className="px-3 py-2 text-slate-500">Nobody holds this scope.</p>
              ) : (
                <ul className="divide-y divide-slate-100">
                  {s.holders.map((h) => (
                    <li key={h.grantId} className="flex items-center justify-between px-3 py-1">
                      <span className="flex items-center gap-1.5">
                        <Link href={`/principals/${h.principalId}`} className="text-sky-800 hover:underline">{h.displayName}</Link>
                        {h.principalStatus !== "active" ? <Badge tone={statusTone(h.principalStatus)}>{h.principalStatus}</Badge> : null}
                      </span>
                      <span className="text-xs text-slate-500">used <When date={h.lastUsedAt} now={now} /></span>
                    </li>
                  ))}
                  {s.activeGrants > s.holders.length ? (
                    <li className="px-3 py-1 text-xs text-slate-500">and {number(s.activeGrants - s.holders.length)} more</li>
                  ) : null}
                </ul>
              )}
            </div>
          ))}
        </div>
      </section>
    </div>
  );
}

/** OpenAPI semantics: each line is an alternative; all scopes of one line are required together. */
function Requirements({ endpoint: e }: { endpoint: { public: boolean; requirements: { id: string; name: string; level: string }[][] } }) {
  return (
    <div data-testid="endpoint-requirements">
      {e.requirements.length === 0 && !e.public ? <span className="text-xs text-slate-500">none: refused until a scope is assigned</span> : null}
      {e.requirements.map((set, i) => (
        <div key={set.map((s) => s.id).join(" ")} className="flex flex-wrap items-center gap-1">
          {i > 0 ? <span className="text-xs font-medium uppercase text-slate-500">or</span> : null}
          {set.map((s, j) => (
            <span key={s.id} className="inline-flex items-center gap-1">
              {j > 0 ? <span className="text-xs font-medium text-slate-500">AND</span> : null}
              <Badge tone={levelTone(s.level)}>{s.name}</Badge>
            </span>
          ))}
        </div>
      ))}
    </div>
  );
}
