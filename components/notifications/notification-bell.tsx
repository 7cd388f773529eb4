"use client";
import Link from "next/link";
import { useEffect, useRef, useState, useTransition } from "react";
import { markReadAction } from "@/app/(dashboard)/notifications/actions";
import { readJson, type Json } from "@/components/read-json";
import type { listNotifications } from "@/lib/notifications";

type List = Json<Awaited<ReturnType<typeof listNotifications>>>;
const fetchList = () => readJson<Awaited<ReturnType<typeof listNotifications>>>("/api/ui/notifications");

/** The header's notification centre: unread count, the latest 20, mark read. Loads its list when opened. */
export function NotificationBell({ initialUnread }: { initialUnread: number }) {
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<List | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [unread, setUnread] = useState(initialUnread);
  const [busy, start] = useTransition();
  const ref = useRef<HTMLDivElement>(null);

  const load = () =>
    start(async () => {
      const r = await fetchList();
      if (r.ok) {
        setList(r.data);
        setUnread(r.data.unread);
        setError(null);
      } else setError(r.error.message);
    });
  const mark = (input: Parameters<typeof markReadAction>[0]) =>
    start(async () => {
      const r = await markReadAction(input);
      if (!r.ok) return setError(r.error.message);
      const l = await fetchList();
      if (l.ok) {
        setList(l.data);
        setUnread(l.data.unread);
      }
    });

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    const onClick = (e: MouseEvent) => ref.current && !ref.current.contains(e.target as Node) && setOpen(false);
    document.addEventListener("keydown", onKey);
    document.addEventListener("mousedown", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("mousedown", onClick);
    };
  }, [open]);

  return (
    <div className="relative" ref={ref}>
      <button
        type="button"
        aria-expanded={open}
        aria-haspopup="dialog"
        aria-label={`Notifications, ${unread} unread`}
        data-testid="notification-bell"
        onClick={() => {
          setOpen(!open);
          if (!open) load();
        }}
        className="relative rounded border border-slate-300 px-2 py-1 text-slate-700 hover:bg-slate-100"
      >
        Notifications
        {unread > 0 && (
          <span className="ml-1 rounded-full bg-red-600 px-1.5 text-xs font-semibold text-white" data-testid="unread-count">
            {unread}
          </span>
        )}
      </button>
      {open && (
        <div role="dialog" aria-label="Notifications" className="absolute right-0 z-20 mt-1 w-96 rounded border border-slate-200 bg-white shadow-lg" data-testid="notification-list">
          <div className="flex items-center justify-between border-b border-slate-100 px-3 py-2">
            <span className="font-medium">Notifications</span>
            <button type="button" disabled={busy || unread === 0} onClick={() => mark({ all: true })} className="text-xs text-blue-700 hover:underline disabled:opacity-40">
              Mark all read
            </button>
          </div>
          {error && (
            <p role="alert" className="px-3 py-2 text-red-700">
              {error}
            </p>
          )}
          {!list && !error && <p className="px-3 py-3 text-slate-500">Loading…</p>}
          {list && list.items.length === 0 && <p className="px-3 py-3 text-slate-500">No notifications yet.</p>}
          <ul className="max-h-96 overflow-y-auto">
            {list?.items.map((n) => (
              <li key={n.id} className={`border-b border-slate-100 px-3 py-2 ${n.readAt ? "text-slate-500" : ""}`}>
                <div className="text-sm">
                  {n.link ? (
                    <Link href={n.link} onClick={() => setOpen(false)} className="hover:underline">
                      {n.message}
                    </Link>
                  ) : (
                    n.message
                  )}
                </div>
                <div className="mt-0.5 flex items-center justify-between text-xs text-slate-600">
                  <span>{new Date(n.createdAt).toISOString().replace("T", " ").slice(0, 16)} UTC</span>
                  {!n.readAt && (
                    <button type="button" disabled={busy} onClick={() => mark({ ids: [n.id] })} className="text-blue-700 hover:underline">
                      Mark read
                    </button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
