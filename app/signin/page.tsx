import type { Metadata } from "next";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { authOptions, signInMethods } from "@/lib/auth/options";
import { canonicalSignInUrl, safeCallbackPath } from "@/lib/auth/redirect";
import { env } from "@/lib/config/env";
import { SignInForm } from "@/components/auth/sign-in-form";
import { signInErrorMessage } from "@/components/auth/sign-in-errors";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const error = typeof params.error === "string" ? params.error : undefined;
  const callbackUrl = safeCallbackPath(typeof params.callbackUrl === "string" ? params.callbackUrl : undefined, env().NEXTAUTH_URL);
  const session = await getServerSession(authOptions());
  if (session?.userId && error !== "NoRoles") redirect(callbackUrl);
  const methods = signInMethods();
  // Reached on another host than the public URL (127.0.0.1 vs localhost): cookies are per host.
  const query = new URLSearchParams(Object.entries(params).flatMap(([k, v]) => (typeof v === "string" ? [[k, v]] : [])));
  const canonical = canonicalSignInUrl({
    requestHost: (await headers()).get("host"),
    publicUrl: env().NEXTAUTH_URL,
    path: `/signin${query.size ? `?${query}` : ""}`,
    oidc: methods.oidc,
  });
  if (canonical) redirect(canonical);
  return (
    <main className="flex min-h-screen items-center justify-center p-6">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <h1 className="mb-1 text-lg font-semibold">Sign in to Tollgate</h1>
        <p className="mb-5 text-slate-500">Access reviews for API permissions</p>
        {error && (
          <p role="alert" className="mb-4 rounded border border-red-200 bg-red-50 px-3 py-2 text-red-800">
            {signInErrorMessage(error)}
          </p>
        )}
        <SignInForm oidc={methods.oidc} demo={methods.demo} callbackUrl={callbackUrl} publicUrl={env().NEXTAUTH_URL} />
        {!methods.oidc && !methods.demo && (
          <p className="text-slate-600">
            No sign-in method is configured. Set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (see docs/SECURITY.md).
          </p>
        )}
      </div>
    </main>
  );
}
