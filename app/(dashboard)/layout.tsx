import { Nav } from "@/components/nav";
import { NotificationBell } from "@/components/notifications/notification-bell";
import { UserMenu } from "@/components/user-menu";
import { can, type Permission } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listNotifications } from "@/lib/notifications";

// Navigation entries are added here as capabilities land. `anyOf`: shown only to
// roles holding one of these permissions (the lib check is what enforces it).
const NAV: { href: string; label: string; anyOf?: Permission[] }[] = [
  { href: "/", label: "Overview" },
  { href: "/queues", label: "Review queue" },
  { href: "/certifications", label: "My certifications", anyOf: ["campaigns:certify"] },
  { href: "/campaigns", label: "Campaigns", anyOf: ["campaigns:manage", "campaigns:read"] },
  { href: "/grants", label: "Grants" },
  { href: "/apis", label: "APIs" },
  { href: "/discovery", label: "Discovery" },
  { href: "/imports", label: "Import access", anyOf: ["imports:write"] },
  { href: "/audit", label: "Audit", anyOf: ["audit:read"] },
  { href: "/reports", label: "Reports", anyOf: ["reports:export"] },
  { href: "/access/requests", label: "My access requests", anyOf: ["access:request"] },
  { href: "/access/approvals", label: "Access approvals", anyOf: ["access:approve"] },
  { href: "/access/keys", label: "Keys", anyOf: ["credentials:manage"] },
  { href: "/settings/policies", label: "Remediation policies", anyOf: ["policies:manage"] },
  { href: "/remediation", label: "Remediation notices" },
  { href: "/settings/tokens", label: "Service tokens", anyOf: ["tokens:manage"] },
  { href: "/settings/api", label: "Inventory API", anyOf: ["tokens:manage"] },
  { href: "/settings", label: "Settings" },
];

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  // Every dashboard page needs a session (pages and lib/ check again themselves).
  const actor = await requirePageActor();
  const nav = NAV.filter((n) => !n.anyOf || n.anyOf.some((p) => can(actor, p))).map(({ href, label }) => ({ href, label }));
  const { unread } = await listNotifications(actor);
  return (
    <div className="flex min-h-screen">
      <aside className="w-52 shrink-0 bg-slate-900 p-3 text-slate-100">
        <div className="mb-4 px-3 py-2 text-base font-semibold tracking-tight">Tollgate</div>
        <Nav items={nav} />
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex h-12 items-center justify-end gap-3 border-b border-slate-200 bg-white px-4">
          <NotificationBell initialUnread={unread} />
          <UserMenu name={actor.name} email={actor.email} roles={actor.roles} />
        </header>
        <main className="min-w-0 flex-1 p-6">{children}</main>
      </div>
    </div>
  );
}
