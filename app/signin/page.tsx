import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { authOptions, signInMethods } from "@/lib/auth/options";
import { safeCallbackPath } from "@/lib/auth/redirect";
import { env } from "@/lib/config/env";
import { SignInForm } from "@/components/auth/sign-in-form";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

// next-auth error codes → what the person can do about it.
const ERRORS: Record<string, string> = {
  CredentialsSignin: "Wrong email or password.",
  RateLimited: "Too many failed attempts. Wait a minute and try again.",
  NoRoles: "Your account has no Tollgate role. Ask an administrator to add you to a Tollgate group.",
  AccessDenied: "Sign-in was refused.",
  OAuthCallback: "The identity provider's answer could not be verified. Try again.",
  OAuthSignin: "Could not start sign-in with the identity provider.",
  SessionRequired: "Please sign in.",
  DatabaseUnavailable: "Tollgate's database is unavailable right now. Try again in a moment.",
  SignInError: "Sign-in failed on our side. Try again; if it keeps failing, tell your administrator.",
};

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const error = typeof params.error === "string" ? params.error : undefined;
  const callbackUrl = safeCallbackPath(typeof params.callbackUrl === "string" ? params.callbackUrl : undefined, env().NEXTAUTH_URL);
  const session = await getServerSession(authOptions());
  if (session?.userId && error !== "NoRoles") redirect(callbackUrl);
  const methods = signInMethods();
  return (
    <main className="flex min-h-screen items-center justify-center p-6">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <h1 className="mb-1 text-lg font-semibold">Sign in to Tollgate</h1>
        <p className="mb-5 text-slate-500">Access reviews for API permissions</p>
        {error && (
          <p role="alert" className="mb-4 rounded border border-red-200 bg-red-50 px-3 py-2 text-red-800">
            {ERRORS[error] ?? "Sign-in failed. Try again."}
          </p>
        )}
        <SignInForm oidc={methods.oidc} demo={methods.demo} callbackUrl={callbackUrl} />
        {!methods.oidc && !methods.demo && (
          <p className="text-slate-600">
            No sign-in method is configured. Set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (see docs/SECURITY.md).
          </p>
        )}
      </div>
    </main>
  );
}
