import { Nav } from "@/components/nav";
import { UserMenu } from "@/components/user-menu";
import { requirePageActor } from "@/lib/auth/session";

// Navigation entries are added here as capabilities land.
const NAV = [
  { href: "/", label: "Overview" },
  { href: "/queues", label: "Review queue" },
  { href: "/grants", label: "Grants" },
  { href: "/apis", label: "APIs" },
  { href: "/discovery", label: "Discovery" },
  { href: "/audit", label: "Audit" },
  { href: "/settings/tokens", label: "Service tokens" },
  { href: "/settings", label: "Settings" },
];

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  // Every dashboard page needs a session (pages and lib/ check again themselves).
  const actor = await requirePageActor();
  return (
    <div className="flex min-h-screen">
      <aside className="w-52 shrink-0 bg-slate-900 p-3 text-slate-100">
        <div className="mb-4 px-3 py-2 text-base font-semibold tracking-tight">Tollgate</div>
        <Nav items={NAV} />
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex h-12 items-center justify-end border-b border-slate-200 bg-white px-4">
          <UserMenu name={actor.name} email={actor.email} roles={actor.roles} />
        </header>
        <main className="min-w-0 flex-1 p-6">{children}</main>
      </div>
    </div>
  );
}
