"use client";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { Badge, levelTone, statusTone } from "@/components/badge";
import { DataTable } from "@/components/data-table/data-table";
import type { PaginationProps } from "@/components/data-table/pagination";
import { day } from "@/components/format";
import { When } from "@/components/when";
import type { GrantRow } from "@/lib/inventory/grants";
import { GRANT_SORTS } from "@/lib/inventory/grants-params";

const KIND_LABEL: Record<string, string> = { user: "User", service_account: "Service account", api_key: "API key" };

function columns(now: number): ColumnDef<GrantRow, unknown>[] {
  return [
    {
      id: "principal",
      header: "Principal",
      enableHiding: false,
      cell: ({ row: { original: g } }) => (
        <span className="flex items-center gap-1.5">
          <Link href={`/principals/${g.principalId}`} className="font-medium text-sky-800 hover:underline">
            {g.principalName}
          </Link>
          {g.principalStatus !== "active" ? <Badge tone={statusTone(g.principalStatus)}>{g.principalStatus}</Badge> : null}
        </span>
      ),
    },
    { id: "kind", header: "Kind", cell: ({ row }) => <span className="text-slate-600">{KIND_LABEL[row.original.principalKind]}</span> },
    {
      id: "api",
      header: "API",
      cell: ({ row: { original: g } }) => (
        <Link href={`/apis/${g.apiId}`} className="text-sky-800 hover:underline">
          {g.apiName}
        </Link>
      ),
    },
    { id: "scope", header: "Scope", cell: ({ row }) => <code className="font-mono text-xs">{row.original.scopeName}</code> },
    { id: "level", header: "Level", cell: ({ row }) => <Badge tone={levelTone(row.original.scopeLevel)}>{row.original.scopeLevel}</Badge> },
    { id: "environment", header: "Environment", cell: ({ row }) => row.original.environment },
    { id: "status", header: "Status", cell: ({ row }) => <Badge tone={statusTone(row.original.status)}>{row.original.status}</Badge> },
    { id: "grantedAt", header: "Granted", cell: ({ row }) => <span title={String(row.original.grantedAt)}>{day(row.original.grantedAt)}</span> },
    {
      id: "lastUsedAt",
      header: "Last used",
      cell: ({ row: { original: g } }) => {
        // Unused for 90 days, counting a never-used grant from the day it was granted.
        const stale = now - new Date(g.lastUsedAt ?? g.grantedAt).getTime() > 90 * 86_400_000;
        return (
          <span className={stale && g.status === "active" ? "font-medium text-amber-700" : ""} title={g.lastUsedAt ? day(g.lastUsedAt) : "never used"}>
            <When date={g.lastUsedAt} now={now} />
          </span>
        );
      },
    },
    {
      id: "expiresAt",
      header: "Expires",
      cell: ({ row: { original: g } }) => {
        const past = g.expiresAt && new Date(g.expiresAt).getTime() < now;
        return <span className={past && g.status === "active" ? "font-medium text-red-700" : "text-slate-600"}>{day(g.expiresAt)}</span>;
      },
    },
  ];
}

export function GrantsTable({ rows, sort, pagination, now, toolbar, empty }: {
  rows: GrantRow[];
  sort: { id: string; desc: boolean };
  pagination: PaginationProps;
  now: number;
  toolbar?: React.ReactNode;
  empty?: React.ReactNode;
}) {
  return (
    <DataTable
      columns={columns(now)}
      data={rows}
      sort={sort}
      sortable={GRANT_SORTS}
      pagination={pagination}
      getRowId={(g) => g.id}
      storageKey="grants"
      defaultHidden={["expiresAt"]}
      toolbar={toolbar}
      empty={empty}
    />
  );
}
