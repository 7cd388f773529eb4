"use client";
import { useState } from "react";
import { signIn } from "next-auth/react";
import { signInErrorMessage } from "./sign-in-errors";

/** Signed in, yet the next request carries no session: the browser did not keep the cookie. */
const NOT_KEPT =
  "You were signed in, but this browser did not keep the session cookie. Allow cookies for this site, or open Tollgate at its own address";

export function SignInForm({ oidc, demo, callbackUrl, publicUrl }: { oidc: boolean; demo: boolean; callbackUrl: string; publicUrl?: string }) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function demoSignIn(email: string, password: string) {
    setPending(true);
    setError(null);
    // No redirect from next-auth: it would send us to its public URL (NEXTAUTH_URL), which may be
    // another host than this page (localhost vs 127.0.0.1) where the new cookie does not exist.
    const result = await signIn("demo", { email, password, callbackUrl, redirect: false }).catch(() => undefined);
    if (!result || result.error) {
      setError(signInErrorMessage(result?.error ?? "SignInError"));
      setPending(false);
      return;
    }
    // Never fail silently: check that the session actually stuck before leaving the form.
    const session = (await fetch("/api/auth/session", { cache: "no-store" })
      .then((r) => r.json())
      .catch(() => null)) as { userId?: string } | null;
    if (!session?.userId) {
      setError(`${NOT_KEPT}${publicUrl ? ` (${publicUrl})` : ""}.`);
      setPending(false);
      return;
    }
    window.location.assign(callbackUrl);
  }

  return (
    <div className="flex flex-col gap-5">
      {error && (
        <p role="alert" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-red-800">
          {error}
        </p>
      )}
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
            void demoSignIn(String(data.get("email")), String(data.get("password")));
          }}
        >
          {oidc && <div className="text-center text-xs uppercase tracking-wide text-slate-600">or a demo account</div>}
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
