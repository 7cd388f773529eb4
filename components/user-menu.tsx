"use client";
import { signOut } from "next-auth/react";

export function UserMenu({ name, email, roles }: { name: string; email: string; roles: string[] }) {
  return (
    <div className="flex items-center gap-3" data-testid="user-menu">
      <div className="text-right leading-tight">
        <div className="font-medium" title={email}>
          {name}
        </div>
        <div className="text-xs text-slate-500" data-testid="user-roles">
          {roles.join(", ")}
        </div>
      </div>
      <button
        type="button"
        onClick={() => void signOut({ callbackUrl: "/signin" })}
        className="rounded border border-slate-300 px-2 py-1 text-slate-700 hover:bg-slate-100"
      >
        Sign out
      </button>
    </div>
  );
}
