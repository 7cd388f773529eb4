import type { AuthOptions } from "next-auth";
import type { OAuthConfig } from "next-auth/providers/oauth";
import CredentialsProvider from "next-auth/providers/credentials";
import { randomUUID } from "node:crypto";
import { env } from "@/lib/config/env";
import type { PrismaClient } from "@/lib/db";
import { isDatabaseUnavailable } from "@/lib/db/unavailable";
import { parseRoleMap, readGroupsClaim } from "./roles";
import { recordSignOut, signInWithOidc, signInWithPassword } from "./sign-in";
import type { Role } from "./actor";

export const OIDC_PROVIDER_ID = "oidc";
export const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

/** What the sign-in page may show; no secrets. */
export function signInMethods(): { oidc: boolean; demo: boolean } {
  const e = env();
  return { oidc: Boolean(e.OIDC_ISSUER && e.OIDC_CLIENT_ID && e.OIDC_CLIENT_SECRET), demo: e.TOLLGATE_DEMO === "1" };
}

interface OidcClaims extends Record<string, unknown> {
  sub: string;
  email?: string;
  name?: string;
  preferred_username?: string;
}

function oidcProvider(): OAuthConfig<OidcClaims> | null {
  const e = env();
  if (!signInMethods().oidc) return null;
  const issuer = e.OIDC_ISSUER!.replace(/\/$/, "");
  return {
    id: OIDC_PROVIDER_ID,
    name: "Single sign-on",
    type: "oauth",
    wellKnown: `${issuer}/.well-known/openid-configuration`,
    clientId: e.OIDC_CLIENT_ID,
    clientSecret: e.OIDC_CLIENT_SECRET,
    authorization: { params: { scope: e.OIDC_SCOPES } },
    // Authorization-code flow; the groups claim is read from the verified ID token.
    idToken: true,
    checks: ["pkce", "state"],
    profile(claims) {
      return { id: claims.sub, email: claims.email ?? null, name: claims.name ?? claims.preferred_username ?? claims.email ?? null };
    },
  };
}

function clientIp(headers: Record<string, unknown> | undefined): string {
  const h = headers ?? {};
  const fwd = typeof h["x-forwarded-for"] === "string" ? h["x-forwarded-for"].split(",")[0].trim() : "";
  const real = typeof h["x-real-ip"] === "string" ? h["x-real-ip"].trim() : "";
  return (fwd || real || "unknown").slice(0, 64);
}

let cached: AuthOptions | undefined;

/**
 * The demo provider's check. next-auth turns a thrown error's message into
 * `?error=<message>` on the sign-in page, so only fixed codes are ever thrown:
 * a database outage used to put Prisma's raw text (naming the database host)
 * into the URL. The real error is logged with an id instead.
 */
export async function authorizeDemo(
  credentials: Record<string, unknown> | undefined,
  ip: string,
  client?: PrismaClient,
): Promise<{ id: string; email: string; name: string; roles: Role[] } | null> {
  let result: Awaited<ReturnType<typeof signInWithPassword>>;
  try {
    result = await signInWithPassword({ email: credentials?.email, password: credentials?.password, ip }, client);
  } catch (e) {
    const logId = randomUUID();
    const down = isDatabaseUnavailable(e);
    console.error(`[auth] sign-in ${down ? "impossible, database unavailable" : "failed"} (log id ${logId})`, down ? (e as Error).message : e);
    throw new Error(down ? "DatabaseUnavailable" : "SignInError");
  }
  if (result.ok) return { id: result.user.id, email: result.user.email, name: result.user.name, roles: result.user.roles };
  if (result.reason === "rate_limited") throw new Error("RateLimited");
  return null;
}

/**
 * next-auth options, built on first use (not at import, so `next build` does
 * not need the runtime environment).
 */
export function authOptions(): AuthOptions {
  if (cached) return cached;
  const e = env();
  if (!e.NEXTAUTH_SECRET && e.NODE_ENV === "production") {
    throw new Error("NEXTAUTH_SECRET is required in production (at least 16 characters; e.g. `openssl rand -base64 32`)");
  }
  const roleMap = parseRoleMap(e.OIDC_ROLE_MAP);
  const providers: AuthOptions["providers"] = [];
  const oidc = oidcProvider();
  if (oidc) providers.push(oidc);
  if (e.TOLLGATE_DEMO === "1") {
    providers.push(
      CredentialsProvider({
        id: "demo",
        name: "Demo account",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        authorize: (credentials, req) => authorizeDemo(credentials, clientIp(req?.headers as Record<string, unknown> | undefined)),
      }),
    );
  }
  cached = {
    secret: e.NEXTAUTH_SECRET,
    providers,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    // next-auth's defaults already make the session cookie httpOnly and
    // SameSite=Lax; Secure (and the __Secure- prefix) follow the public URL.
    useSecureCookies: (e.NEXTAUTH_URL ?? "").startsWith("https://"),
    pages: { signIn: "/signin", error: "/signin" },
    callbacks: {
      async signIn({ user, account, profile }) {
        if (account?.provider !== OIDC_PROVIDER_ID) return true;
        const claims = (profile ?? {}) as Record<string, unknown>;
        let result: Awaited<ReturnType<typeof signInWithOidc>>;
        try {
          result = await signInWithOidc({
            claims,
            groups: readGroupsClaim(claims, e.OIDC_GROUPS_CLAIM),
            roleMap,
            issuer: e.OIDC_ISSUER!,
          });
        } catch (err) {
          // Same rule as the demo provider: a fixed code in the URL, the real error in the log.
          if (!isDatabaseUnavailable(err)) throw err;
          console.error(`[auth] OIDC sign-in impossible, database unavailable (log id ${randomUUID()})`, (err as Error).message);
          return "/signin?error=DatabaseUnavailable";
        }
        if (!result.ok) return result.reason === "no_roles" ? "/signin?error=NoRoles" : false;
        // next-auth hands this same object to the jwt callback: carry our user id, not the IdP subject.
        Object.assign(user, { id: result.user.id, roles: result.user.roles, email: result.user.email, name: result.user.name });
        return true;
      },
      async jwt({ token, user }) {
        if (user) {
          token.userId = user.id;
          token.roles = (user as { roles?: Role[] }).roles ?? [];
        }
        return token;
      },
      async session({ session, token }) {
        return { ...session, userId: token.userId, roles: token.roles };
      },
    },
    events: {
      async signOut({ token }) {
        if (token?.userId && token.email) await recordSignOut(String(token.userId), String(token.email));
      },
    },
  };
  return cached;
}
