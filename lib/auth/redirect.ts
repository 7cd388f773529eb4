/**
 * Where to send someone after sign-in: only a path on this site. next-auth
 * passes absolute URLs (its callbackUrl), so same-origin absolute URLs are
 * reduced to their path; anything else becomes "/" (no open redirect).
 * `base` is the app's public URL (NEXTAUTH_URL).
 */
export function safeCallbackPath(raw: string | undefined, base = "http://localhost"): string {
  if (!raw) return "/";
  try {
    const url = new URL(raw, base);
    if (url.origin !== new URL(base).origin) return "/";
    return `${url.pathname}${url.search}`;
  } catch {
    return "/";
  }
}

/**
 * Where the sign-in page must send a browser that reached it on another host than the
 * public URL (NEXTAUTH_URL), e.g. `127.0.0.1:3000` when the URL defaults to `localhost:3000`.
 * Cookies are per host, so a sign-in on one host and a dashboard on the other loses the session.
 * - Demo-only sign-in follows the request's own host (the form posts and navigates relative to
 *   it, so the cookie it gets is the one it keeps): returns null.
 * - Single sign-on must run on the public URL (the identity provider only knows that callback):
 *   returns the same path on the public URL, to redirect to before the form is shown.
 */
export function canonicalSignInUrl(opts: { requestHost: string | null; publicUrl: string | undefined; path: string; oidc: boolean }): string | null {
  if (!opts.publicUrl || !opts.requestHost) return null;
  let canonical: URL;
  try {
    canonical = new URL(opts.publicUrl);
  } catch {
    return null;
  }
  if (canonical.host.toLowerCase() === opts.requestHost.toLowerCase()) return null;
  if (!opts.oidc) return null;
  // Always a path on the public origin: "//evil.test" must not become a host.
  return `${canonical.origin}/${opts.path.replace(/^[/\\]+/, "")}`;
}
