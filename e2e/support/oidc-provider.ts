/**
 * A real OpenID Connect provider for the e2e suite (the `oidc-provider`
 * package, the certified implementation many IdPs are built on), on localhost.
 * One confidential client, authorization-code flow with PKCE required, and a
 * `groups` claim in the ID token — the shape Okta/Entra/Keycloak send.
 *
 * The login page is ours (a plain form: email + password); consent is implied
 * for this first-party client.
 */
import http from "node:http";
import Provider, { type OidcCtx } from "oidc-provider";

export interface OidcTestUser {
  email: string;
  password: string;
  name: string;
  groups: string[];
}

export interface StartOidcProviderOptions {
  port: number;
  host?: string;
  clientId: string;
  clientSecret: string;
  /** e.g. http://127.0.0.1:3999/api/auth/callback/oidc */
  redirectUri: string;
  users: OidcTestUser[];
}

export interface RunningOidcProvider {
  issuer: string;
  /** Every authorization request seen, to assert PKCE was used. */
  authorizationRequests: { codeChallengeMethod: string | null; hasCodeChallenge: boolean; scope: string | null }[];
  close(): Promise<void>;
}

const SCOPE = "openid email profile groups";

function page(uid: string, error?: string): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html><head><title>Test IdP sign-in</title></head><body>
<h1>Test identity provider</h1>
${error ? `<p role="alert">${esc(error)}</p>` : ""}
<form method="post" action="/interaction/${esc(uid)}/login">
  <label>Email <input name="email" type="email" autocomplete="off" required></label>
  <label>Password <input name="password" type="password" required></label>
  <button type="submit">Continue</button>
</form></body></html>`;
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export async function startOidcProvider(opts: StartOidcProviderOptions): Promise<RunningOidcProvider> {
  const host = opts.host ?? "127.0.0.1";
  const issuer = `http://${host}:${opts.port}`;
  const byEmail = new Map(opts.users.map((u) => [u.email.toLowerCase(), u]));

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: opts.clientId,
        client_secret: opts.clientSecret,
        redirect_uris: [opts.redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    // PKCE for every client, confidential ones included (the provider's default only forces it for public clients).
    pkce: { required: () => true },
    scopes: SCOPE.split(" "),
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
    // Put the scope's claims in the ID token too (as Okta/Entra do for groups), not only in userinfo.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ["tollgate-e2e-oidc-cookie-key-0123456789"] },
    async findAccount(_ctx: unknown, sub: string) {
      const user = byEmail.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, email: user.email, email_verified: true, name: user.name, groups: user.groups };
        },
      };
    },
    // First-party client: consent is implied, so the login form is the only interaction.
    async loadExistingGrant(ctx: OidcCtx) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope(SCOPE);
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  });

  const authorizationRequests: RunningOidcProvider["authorizationRequests"] = [];
  const callback = provider.callback();
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", issuer);
      if (url.pathname === "/auth") {
        authorizationRequests.push({
          codeChallengeMethod: url.searchParams.get("code_challenge_method"),
          hasCodeChallenge: Boolean(url.searchParams.get("code_challenge")),
          scope: url.searchParams.get("scope"),
        });
      }
      const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname);
      if (!m) return callback(req, res);
      const details = await provider.interactionDetails(req, res);
      if (req.method === "GET") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page(details.uid));
        return;
      }
      const form = await readForm(req);
      const user = byEmail.get(String(form.get("email") ?? "").toLowerCase());
      if (!user || user.password !== form.get("password")) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page(details.uid, "Wrong email or password"));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: user.email.toLowerCase() } }, { mergeWithLastSubmission: false });
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`test IdP error: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => resolve());
  });
  return {
    issuer,
    authorizationRequests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The e2e suite's identity provider: fixed client and users, shared by the
 * stack runner (which starts it) and the specs (which sign in through it).
 */
export const E2E_OIDC = {
  port: Number(process.env.E2E_OIDC_PORT ?? 9230),
  clientId: "tollgate-e2e",
  clientSecret: "e2e-oidc-client-secret-5f1c0d7e9a2b4c6d",
  users: [
    { email: "olivia@idp.test", password: "idp-password-olivia", name: "Olivia Oidc", groups: ["tollgate-reviewers", "tollgate-auditors", "all-staff"] },
    { email: "nobody@idp.test", password: "idp-password-nobody", name: "Nobody Norole", groups: ["all-staff"] },
  ] satisfies OidcTestUser[],
};

/** Starts the e2e provider for an app served at appUrl. */
export function startE2eOidcProvider(appUrl: string): Promise<RunningOidcProvider> {
  return startOidcProvider({
    port: E2E_OIDC.port,
    clientId: E2E_OIDC.clientId,
    clientSecret: E2E_OIDC.clientSecret,
    redirectUri: `${appUrl.replace(/\/$/, "")}/api/auth/callback/oidc`,
    users: E2E_OIDC.users,
  });
}

/** The environment the app needs to use that provider (the default role map applies: tollgate-* groups). */
export function e2eOidcAppEnv(issuer = `http://127.0.0.1:${E2E_OIDC.port}`): Record<string, string> {
  return {
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: E2E_OIDC.clientId,
    OIDC_CLIENT_SECRET: E2E_OIDC.clientSecret,
    OIDC_SCOPES: "openid email profile groups",
    OIDC_GROUPS_CLAIM: "groups",
  };
}
