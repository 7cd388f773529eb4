import { Nav } from "@/components/nav";

// Navigation entries are added here as capabilities land.
const NAV = [
  { href: "/", label: "Overview" },
  { href: "/grants", label: "Grants" },
  { href: "/apis", label: "APIs" },
];

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  return (
    <div className="flex min-h-screen">
      <aside className="w-52 shrink-0 bg-slate-900 p-3 text-slate-100">
        <div className="mb-4 px-3 py-2 text-base font-semibold tracking-tight">Tollgate</div>
        <Nav items={NAV} />
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex h-12 items-center justify-end border-b border-slate-200 bg-white px-4">
          {/* user menu: filled by the identity capability */}
        </header>
        <main className="min-w-0 flex-1 p-6">{children}</main>
      </div>
    </div>
  );
}
