import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/components/empty-state";
import { GrantsFilters } from "@/components/inventory/grants-filters";
import { GrantsTable } from "@/components/inventory/grants-table";
import { requirePageActor } from "@/lib/auth/session";
import { getGrantFilterOptions, listGrants, parseGrantsQuery, PER_PAGE_OPTIONS } from "@/lib/inventory";

export const metadata: Metadata = { title: "Grants" };
export const dynamic = "force-dynamic";

type Params = Record<string, string | string[] | undefined>;

export default async function GrantsPage({ searchParams }: { searchParams: Promise<Params> }) {
  const actor = await requirePageActor();
  const query = parseGrantsQuery(await searchParams);
  const [page, options] = await Promise.all([listGrants(actor, query), getGrantFilterOptions(actor, query.api)]);
  const filtered = ["q", "api", "scope", "level", "environment", "kind", "status", "lastUsed", "principal"].some((k) => query[k as keyof typeof query] !== undefined);
  return (
    <div className="space-y-3">
      <div className="flex items-baseline justify-between">
        <h1 className="text-xl font-semibold">Grants</h1>
        {filtered ? <Link href="/grants" className="text-xs text-sky-800 hover:underline">Clear all filters</Link> : null}
      </div>
      <GrantsTable
        rows={page.rows}
        sort={{ id: query.sort, desc: query.dir === "desc" }}
        pagination={{ page: page.page, pageCount: page.pageCount, total: page.total, totalCapped: page.totalCapped, hasNext: page.hasNext, rowsOnPage: page.rows.length, perPage: query.perPage, perPageOptions: PER_PAGE_OPTIONS }}
        now={Date.now()}
        toolbar={<GrantsFilters query={query} apis={options.apis} scopes={options.scopes} environments={options.environments} />}
        empty={
          filtered ? (
            <EmptyState title="No grants match these filters" action={{ href: "/grants", label: "Clear filters" }} />
          ) : (
            <EmptyState title="No grants in the inventory yet">Import your APIs and principals, or load the demo with <code>npm run seed</code>.</EmptyState>
          )
        }
      />
    </div>
  );
}
