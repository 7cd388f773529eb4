import { CellsTable, MONO, NUMERIC } from "@/components/data-table/cells-table";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Badge, levelTone, statusTone } from "@/components/badge";
import { DailyUsageChart } from "@/components/charts/daily-usage-chart";
import { EmptyState } from "@/components/empty-state";
import { day, number } from "@/components/format";
import { When } from "@/components/when";
import { requirePageActor } from "@/lib/auth/session";
import { getPrincipal } from "@/lib/inventory";

export const metadata: Metadata = { title: "Principal" };
export const dynamic = "force-dynamic";

const KIND_LABEL = { user: "User", service_account: "Service account", api_key: "API key holder" } as const;

export default async function PrincipalPage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requirePageActor();
  const p = await getPrincipal(actor, (await params).id);
  if (!p) notFound();
  const now = Date.now();
  const activeGrants = p.grants.filter((g) => g.status === "active").length;
  return (
    <div className="space-y-6">
      <div>
        <div className="text-xs text-slate-500"><Link href="/grants" className="hover:underline">Grants</Link> / principal</div>
        <h1 className="flex items-center gap-2 text-xl font-semibold">
          {p.displayName} <Badge tone={statusTone(p.status)}>{p.status}</Badge>
        </h1>
        <dl className="mt-1 flex flex-wrap gap-x-6 gap-y-1 text-slate-600">
          <div><dt className="inline text-slate-600">Kind </dt><dd className="inline">{KIND_LABEL[p.kind]}</dd></div>
          {p.email ? <div><dt className="inline text-slate-600">Email </dt><dd className="inline">{p.email}</dd></div> : null}
          {p.externalId ? <div><dt className="inline text-slate-600">External id </dt><dd className="inline font-mono text-xs">{p.externalId}</dd></div> : null}
          <div><dt className="inline text-slate-600">Team </dt><dd className="inline">{p.team ?? "—"}</dd></div>
          {p.manager ? (
            <div><dt className="inline text-slate-600">Manager </dt><dd className="inline"><Link href={`/principals/${p.manager.id}`} className="text-sky-800 hover:underline">{p.manager.displayName}</Link></dd></div>
          ) : null}
          {p.homeEnvironment ? <div><dt className="inline text-slate-600">Home environment </dt><dd className="inline">{p.homeEnvironment}</dd></div> : null}
          {p.status !== "active" ? <div><dt className="inline text-slate-600">{p.status} since </dt><dd className="inline">{day(p.statusChangedAt)}</dd></div> : null}
        </dl>
      </div>

      <section aria-labelledby="usage" className="rounded border border-slate-200 bg-white p-4">
        <h2 id="usage" className="mb-2 font-medium">Requests per day, last 90 days</h2>
        {p.usage.every((d) => d.requests === 0) ? (
          <EmptyState title="No recorded use in the last 90 days" />
        ) : (
          <DailyUsageChart data={p.usage} label={`Daily requests by ${p.displayName}`} />
        )}
      </section>

      <section aria-labelledby="grants">
        <h2 id="grants" className="mb-2 font-medium">
          Grants ({activeGrants} active of {p.grants.length})
          <Link href={`/grants?principal=${p.id}`} className="ml-3 text-xs font-normal text-sky-800 hover:underline">open in the grants table →</Link>
        </h2>
        {p.grants.length === 0 ? (
          <EmptyState title="This principal holds no grants" />
        ) : (
          <CellsTable
            testId="principal-grants"
            label="Grants"
            columns={{ api: "API", scope: "Scope", environment: "Environment", status: "Status", granted: "Granted (UTC)", lastUsed: "Last used (UTC)", requests: ["Requests (90 d)", NUMERIC], expires: "Expires" }}
            rows={p.grants.map((g) => ({
              id: g.id,
              cells: {
                api: <Link href={`/apis/${g.apiId}`} className="text-sky-800 hover:underline">{g.apiName}</Link>,
                scope: <><code className="mr-1 font-mono text-xs">{g.scopeName}</code><Badge tone={levelTone(g.scopeLevel)}>{g.scopeLevel}</Badge></>,
                environment: g.environment,
                status: <Badge tone={statusTone(g.status)}>{g.status}</Badge>,
                granted: day(g.grantedAt),
                lastUsed: <When date={g.lastUsedAt} now={now} />,
                requests: number(g.requests90d),
                expires: day(g.expiresAt),
              },
            }))}
          />
        )}
      </section>

      <section aria-labelledby="credentials">
        <h2 id="credentials" className="mb-2 font-medium">Credentials ({p.credentials.length})</h2>
        {p.credentials.length === 0 ? (
          <EmptyState title="No credentials">This principal signs in through the identity provider only.</EmptyState>
        ) : (
          <CellsTable
            testId="principal-credentials"
            label="Credentials"
            columns={{ prefix: ["Prefix", MONO], created: "Created", rotated: "Last rotated", age: "Age", lastUsed: "Last used", expires: "Expires", state: "State" }}
            rows={p.credentials.map((c) => ({
              id: c.id,
              cells: {
                prefix: `${c.prefix}…`,
                created: day(c.createdAt),
                rotated: day(c.rotatedAt, "never"),
                age: <span className={!c.revokedAt && c.ageDays > 180 ? "font-medium text-amber-700" : ""}>{c.ageDays} days</span>,
                lastUsed: <When date={c.lastUsedAt} now={now} />,
                expires: <span className={c.expired && !c.revokedAt ? "font-medium text-red-700" : ""}>{day(c.expiresAt, "no expiry")}</span>,
                state: c.revokedAt ? <Badge tone="neutral">revoked {day(c.revokedAt)}</Badge> : c.expired ? <Badge tone="bad">expired</Badge> : c.ageDays > 180 ? <Badge tone="warn">stale</Badge> : <Badge tone="good">valid</Badge>,
              },
            }))}
          />
        )}
      </section>
    </div>
  );
}
