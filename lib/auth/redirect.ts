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
