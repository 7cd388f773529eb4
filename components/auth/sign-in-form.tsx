"use client";
import { useState } from "react";
import { signIn } from "next-auth/react";

export function SignInForm({ oidc, demo, callbackUrl }: { oidc: boolean; demo: boolean; callbackUrl: string }) {
  const [pending, setPending] = useState(false);
  return (
    <div className="flex flex-col gap-5">
      {oidc && (
        <button
          type="button"
          disabled={pending}
          onClick={() => {
            setPending(true);
            void signIn("oidc", { callbackUrl });
          }}
          className="rounded bg-slate-900 px-3 py-2 font-medium text-white hover:bg-slate-800 disabled:opacity-60"
        >
          Sign in with single sign-on
        </button>
      )}
      {demo && (
        <form
          className="flex flex-col gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            const data = new FormData(e.currentTarget);
            setPending(true);
            // A full redirect either way: success lands on callbackUrl, failure on /signin?error=…
            void signIn("demo", { email: String(data.get("email")), password: String(data.get("password")), callbackUrl });
          }}
        >
          {oidc && <div className="text-center text-xs uppercase tracking-wide text-slate-400">or a demo account</div>}
          <label className="flex flex-col gap-1">
            <span className="font-medium">Email</span>
            <input name="email" type="email" required autoComplete="username" defaultValue="admin@tollgate.test" className="rounded border border-slate-300 px-2 py-1.5" />
          </label>
          <label className="flex flex-col gap-1">
            <span className="font-medium">Password</span>
            <input name="password" type="password" required autoComplete="current-password" className="rounded border border-slate-300 px-2 py-1.5" />
          </label>
          <button type="submit" disabled={pending} className="rounded bg-blue-600 px-3 py-2 font-medium text-white hover:bg-blue-500 disabled:opacity-60">
            Sign in
          </button>
          <p className="text-xs text-slate-500">
            Demo users: admin@, reviewer@, reviewer2@, manager@, auditor@tollgate.test — password <code>tollgate-demo</code>.
          </p>
        </form>
      )}
    </div>
  );
}
