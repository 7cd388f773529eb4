// The conformance table: one list of requests and the answer every Tollgate
// data plane must give (the Node proxy, proxy/, and nginx with the Lua module,
// proxy-nginx/). The bypass targets are the ones proxy/proxy.test.ts,
// proxy/outside.test.ts and proxy/integrity.test.ts assert on the Node proxy.
import { randomUUID } from "node:crypto";
import { sha, world } from "@/proxy/test-support";

/** The state every plane is loaded with: the proxy tests' world plus scope-set routes and principals. */
export function conformanceWorld(upstreamUrl: string) {
  const w = world(upstreamUrl);
  const ids = { ...w.ids, auditScope: randomUUID(), rReports: randomUUID(), rFiles: randomUUID(), rAdmin: randomUUID(), carol: randomUUID(), dave: randomUUID(), erin: randomUUID(), carolCred: randomUUID(), daveCred: randomUUID(), erinCred: randomUUID(), kong: randomUUID(), rKongItems: randomUUID() };
  const keys = { ...w.keys, carol: "tg_live_carol_" + randomUUID(), dave: "tg_live_dave_" + randomUUID(), erin: "tg_live_erin_" + randomUUID() };
  const past = new Date(Date.now() - 60_000).toISOString();
  const future = new Date(Date.now() + 86_400_000).toISOString();
  const grant = (principalId: string, scopeId: string, expiresAt: string | null = null) => ({ id: randomUUID(), principalId, scopeId, expiresAt });
  const snapshot = {
    ...w.snapshot,
    // An imported Kong API: the key is read from "apikey" (header, then query), not Authorization.
    apis: [...w.snapshot.apis, { id: ids.kong, name: "kong", prefix: "/kong", upstream: upstreamUrl, keyLocation: { names: ["apikey"], header: true, query: true } }],
    routes: [
      { id: ids.rKongItems, apiId: ids.kong, method: "GET", pathTemplate: "/items", requirements: [[ids.readScope]], public: false },
      ...w.snapshot.routes,
      // (read AND write) OR audit: the scope sets of issue 17.
      { id: ids.rReports, apiId: ids.api, method: "GET", pathTemplate: "/reports", requirements: [[ids.readScope, ids.writeScope], [ids.auditScope]], public: false },
      { id: ids.rFiles, apiId: ids.api, method: "GET", pathTemplate: "/files/{rest*}", requirements: [[ids.readScope]], public: false },
      { id: ids.rAdmin, apiId: ids.api, method: "DELETE", pathTemplate: "/orders/{id}", requirements: [[ids.writeScope, ids.auditScope]], public: false },
    ],
    credentials: [
      ...w.snapshot.credentials,
      { id: ids.carolCred, principalId: ids.carol, hash: sha(keys.carol), expiresAt: future },
      { id: ids.daveCred, principalId: ids.dave, hash: sha(keys.dave), expiresAt: null },
      { id: ids.erinCred, principalId: ids.erin, hash: sha(keys.erin), expiresAt: null },
    ],
    grants: [
      ...w.snapshot.grants,
      grant(ids.carol, ids.readScope), // read only
      grant(ids.dave, ids.auditScope), // audit only
      grant(ids.erin, ids.readScope),
      grant(ids.erin, ids.writeScope, past), // read AND an expired write
    ],
  };
  return { ids, keys, snapshot };
}

export type Who = "alice" | "bob" | "carol" | "dave" | "erin" | "expired" | "unknown" | null;

export interface Case {
  name: string;
  method: string;
  /** The raw request target, sent as is (no client-side URL resolution). */
  target: string;
  who: Who;
  /** How the key is sent (default: Authorization: Bearer). */
  via?: "bearer" | "x-api-key" | "apikey-header" | "apikey-query";
  headers?: Record<string, string>;
  status: number;
  /** For an allowed forward-auth request: the principal it names (X-Tollgate-Principal). */
  principalHeader?: Who;
  /** For a forwarded request: what the upstream must see. */
  upstream?: { method: string; path: string; principal: Who; sawApiKey?: boolean };
}

const get = (name: string, target: string, who: Who, status: number, upstreamPath?: string, principal?: Who): Case => ({
  name,
  method: "GET",
  target,
  who,
  status,
  ...(upstreamPath !== undefined ? { upstream: { method: "GET", path: upstreamPath, principal: principal === undefined ? who : principal } } : {}),
});

export const ALLOW_DENY: Case[] = [
  get("a granted key is forwarded", "/orders/orders", "alice", 200, "/orders"),
  { ...get("X-API-Key works like Bearer", "/orders/orders/42", "alice", 200, "/orders/42"), via: "x-api-key" },
  get("the query is forwarded as received", "/orders/orders/42?x=1&y=%20z", "alice", 200, "/orders/42?x=1&y=%20z"),
  get("an expired grant denies", "/orders/orders", "bob", 403),
  get("an expired credential is unauthenticated", "/orders/orders", "expired", 401),
  get("no key", "/orders/orders", null, 401),
  get("an unknown key", "/orders/orders", "unknown", 401),
  get("a public route needs no key", "/orders/health", null, 200, "/health", null),
  { name: "HEAD falls back to GET", method: "HEAD", target: "/orders/orders", who: "alice", status: 200 },
  { name: "POST needs write", method: "POST", target: "/orders/orders", who: "carol", status: 403 },
  { name: "POST with write", method: "POST", target: "/orders/orders", who: "alice", status: 200, upstream: { method: "POST", path: "/orders", principal: "alice" } },
  get("a static segment beats {id}", "/orders/orders/export", "carol", 403),
  get("{id} for anything else", "/orders/orders/export2", "carol", 200, "/orders/export2"),
  get("an unknown route with a key is 404", "/orders/nope", "carol", 404),
  get("an unknown route without a key is 401", "/orders/nope", null, 401),
  get("an unknown API with a key is 404", "/billing/invoices", "carol", 404),
  get("{rest*} matches any remainder", "/orders/files/a/b/c", "carol", 200, "/files/a/b/c"),
  get("{rest*} matches zero segments", "/orders/files", "carol", 200, "/files"),
  get("matching is case-sensitive", "/ORDERS/orders", "alice", 404),
  { name: "a malformed Bearer is unauthenticated", method: "GET", target: "/orders/orders", who: null, headers: { authorization: "Bearer" }, status: 401 },
  { name: "Basic is not a key", method: "GET", target: "/orders/orders", who: null, headers: { authorization: "Basic YWxpY2U6eA==" }, status: 401 },
  { name: "two keys in X-API-Key are refused", method: "GET", target: "/orders/orders", who: null, headers: { "x-api-key": "a, b" }, status: 401 },
];

export const SCOPE_SETS: Case[] = [
  get("read AND write satisfies the first set", "/orders/reports", "alice", 200, "/reports"),
  get("read alone satisfies no set", "/orders/reports", "carol", 403),
  get("audit alone satisfies the second set", "/orders/reports", "dave", 200, "/reports"),
  get("an expired member breaks its set", "/orders/reports", "erin", 403),
  { name: "write AND audit: alice lacks audit", method: "DELETE", target: "/orders/orders/7", who: "alice", status: 403 },
  { name: "write AND audit: dave lacks write", method: "DELETE", target: "/orders/orders/7", who: "dave", status: 403 },
];

export const NORMALISATION: Case[] = [
  get("one trailing slash is dropped", "/orders/orders/", "alice", 200, "/orders"),
  get("escaped unreserved characters are decoded", "/orders/%6Frders/42", "alice", 200, "/orders/42"),
  get("%34%32 is 42", "/orders/orders/%34%32", "alice", 200, "/orders/42"),
  get("valid UTF-8 escapes stay, upper-cased", "/orders/orders/caf%c3%a9", "alice", 200, "/orders/caf%C3%A9"),
  { ...get("method override headers never change the method", "/orders/orders/export", "carol", 403), headers: { "x-http-method-override": "POST" } },
  { ...get("path-rewrite headers are not followed", "/orders/orders/1", "carol", 200, "/orders/1"), headers: { "x-original-url": "/orders/export", "x-rewrite-url": "/orders/export" } },
  { ...get("a client's own principal header is replaced", "/orders/health", null, 200, "/health", null), headers: { "x-tollgate-principal": "forged" } },
];

// Each refused with 400 before matching, with alice's key (who may call everything).
const BYPASS_TARGETS = [
  // proxy/proxy.test.ts "non-canonical paths are rejected before matching"
  "/orders/orders/../orders", "/orders/%2e%2e/orders", "/orders/orders%2F42", "/orders//orders", "/orders/orders/42%00", "/orders/orders/..;/export", "/orders/orders\\42", "/orders/%2E/orders",
  // proxy/outside.test.ts "odd targets are rejected or matched canonically"
  "/orders/orders/1/..;/export", "/orders/orders/1/%2e%2e/export", "/orders/orders/1%2fexport", "/orders//orders/export", "/orders/./orders/export", "/orders/orders/1%00",
  "/orders/orders/%C0%AE%C0%AE/export", "/orders/orders/%C0%AE", "/orders/orders/%80", "/orders/orders/%ED%A0%80", "http://evil.example/orders/orders/export",
  // proxy/integrity.test.ts: encoded specials (PROXY_REFUSE_ENCODED_SPECIALS, on by default)
  "/orders/%252e%252e%252fadmin%252fusers", "/orders/orders/%2e%2e%2fadmin", "/orders/orders/a%2Eb", "/orders/orders/50%25", "/orders/orders/%5c",
  // proxy/normalize.test.ts
  "/orders/orders;x=1", "/orders/orders%zz", "/orders/orders%4", "/orders/orders/%F4%90%80%80",
];
export const BYPASS: Case[] = BYPASS_TARGETS.map((target) => ({ name: `refused: ${target}`, method: "GET", target, who: "alice", status: 400 }));

// An API with a key location (proxy/key-location.ts): its key names are read and stripped, Authorization is not.
export const KEY_LOCATION: Case[] = [
  { ...get("key location: the apikey header", "/kong/items", "carol", 200, "/items"), via: "apikey-header" },
  { ...get("key location: the apikey query parameter, not forwarded", "/kong/items?a=1", "carol", 200, "/items?a=1"), via: "apikey-query" },
  get("key location: Authorization is not where this API's key is", "/kong/items", "carol", 401),
  {
    ...get("key location: Authorization goes on as an ordinary header", "/kong/items", "carol", 200),
    via: "apikey-header",
    headers: { authorization: "Bearer not-a-tollgate-key" },
    upstream: { method: "GET", path: "/items", principal: "carol", sawApiKey: true },
  },
  { ...get("key location: the key given twice is no key", "/kong/items?apikey=x", "carol", 401), via: "apikey-query" },
];

// Forward-auth (/_tollgate/auth): the request is described by headers and the
// answer is only ever 200, 401 or 403 (proxy/forward-auth.test.ts).
const fa = (name: string, who: Who, headers: Record<string, string>, status: number): Case => ({ name: `forward-auth: ${name}`, method: "GET", target: "/_tollgate/auth", who, headers, status });
export const FORWARD_AUTH: Case[] = [
  { ...fa("Traefik/Caddy dialect, allowed", "alice", { "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/orders" }, 200), principalHeader: "alice" },
  { ...fa("nginx dialect, allowed", "carol", { "x-original-method": "GET", "x-original-uri": "/orders/orders/5?x=1" }, 200), principalHeader: "carol" },
  fa("no scope", "bob", { "x-forwarded-method": "POST", "x-forwarded-uri": "/orders/orders" }, 403),
  fa("no key", null, { "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/orders" }, 401),
  fa("unknown route is 403, not 404", "alice", { "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/orders/1/secret" }, 403),
  fa("scope sets apply", "carol", { "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/reports" }, 403),
  fa("no headers", "alice", {}, 403),
  fa("method without URI", "alice", { "x-forwarded-method": "GET" }, 403),
  fa("a method that is not a token", "alice", { "x-forwarded-method": "G E T", "x-forwarded-uri": "/orders/orders" }, 403),
  fa("a dot segment", "alice", { "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/%2e%2e/orders" }, 403),
  fa("an encoded special", "alice", { "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/orders/a%2Eb" }, 403),
  fa("absolute-form URI", "alice", { "x-forwarded-method": "GET", "x-forwarded-uri": "http://evil/orders/orders" }, 403),
  fa("dialects that disagree", "alice", { "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/orders", "x-original-uri": "/orders/orders/export" }, 403),
  fa("the method comes from the URI's dialect", "carol", { "x-original-uri": "/orders/orders", "x-forwarded-method": "GET" }, 403),
];

export const ALL_CASES = [...ALLOW_DENY, ...SCOPE_SETS, ...NORMALISATION, ...BYPASS, ...KEY_LOCATION, ...FORWARD_AUTH];

/**
 * A request sent byte for byte over a socket, for what a client library cannot send: repeated and filler header
 * lines, odd Host lines, underscores in names. `head` is every line after the request line ({alice}, {carol}: the
 * key); the sender adds the line ends and, unless `hostLines` says otherwise, "Host: 127.0.0.1".
 */
export interface RawCase {
  name: string;
  requestLine: string;
  head: string[];
  /** The Host lines to send instead of "Host: 127.0.0.1" ([] for none). */
  hostLines?: string[];
  body?: string;
  status: number;
  /** For a forwarded request: header names the upstream must not have received. */
  notForwarded?: string[];
}

/**
 * Lines of no meaning, enough to push what follows past nginx's Lua API default of 100 header lines (and the 200
 * this plane once read). nginx itself refuses a head of about 1,000 lines (400); the Node proxy's own limit (it
 * once dropped lines past 1,000) is tested in proxy/request-head.test.ts.
 */
const FILLER: string[] = Array(500).fill("a:j");

export const RAW_CASES: RawCase[] = [
  {
    name: "forward-auth: the gateway's headers after 500 other lines are still read (dialects that disagree)",
    requestLine: "GET /_tollgate/auth HTTP/1.1",
    head: ["Authorization: Bearer {carol}", "X-Original-Method: GET", "X-Original-Uri: /orders/orders/1", ...FILLER, "X-Forwarded-Method: GET", "X-Forwarded-Uri: /orders/orders/export"],
    status: 403,
  },
  {
    name: "forward-auth: a URI given twice, the second after 500 lines, is refused",
    requestLine: "GET /_tollgate/auth HTTP/1.1",
    head: ["Authorization: Bearer {carol}", "X-Forwarded-Method: GET", "X-Forwarded-Uri: /orders/orders/1", ...FILLER, "X-Forwarded-Uri: /orders/orders/export"],
    status: 403,
  },
  { name: "a key given twice, the second after 500 lines, is no key", requestLine: "GET /orders/orders/1 HTTP/1.1", head: ["X-API-Key: {carol}", ...FILLER, "X-API-Key: {alice}"], status: 401 },
  { name: "key location: a header key after 500 lines still wins over the query", requestLine: "GET /kong/items?apikey={carol} HTTP/1.1", head: [...FILLER, "apikey: junk"], status: 401 },
  {
    name: "forward-auth: absolute-form is refused like any absolute-form target",
    requestLine: "GET http://evil.example/_tollgate/auth HTTP/1.1",
    head: ["Authorization: Bearer {carol}", "X-Forwarded-Method: GET", "X-Forwarded-Uri: /orders/orders/1"],
    status: 400,
  },
  { name: "a tab before or after the Authorization value is trimmed, as a space is", requestLine: "GET /orders/orders/3 HTTP/1.1", head: ["Authorization:\tBearer {carol}\t"], status: 200 },
  { name: "two Authorization lines are refused", requestLine: "GET /orders/orders HTTP/1.1", head: ["Authorization: Bearer {alice}", "Authorization: Bearer junk"], status: 400 },
  { name: "two Authorization lines are refused, also when the first is the weaker key", requestLine: "GET /orders/orders/export HTTP/1.1", head: ["Authorization: Bearer {carol}", "Authorization: Bearer {alice}"], status: 400 },
  { name: "two Host lines are refused", requestLine: "GET /orders/health HTTP/1.1", head: [], hostLines: ["Host: 127.0.0.1", "Host: evil.example"], status: 400 },
  { name: "an empty Host is refused", requestLine: "GET /orders/health HTTP/1.1", head: [], hostLines: ["Host:"], status: 400 },
  { name: "a Host with a path is refused", requestLine: "GET /orders/health HTTP/1.1", head: [], hostLines: ["Host: evil.example/../x"], status: 400 },
  { name: "a Host with a space is refused", requestLine: "GET /orders/health HTTP/1.1", head: [], hostLines: ["Host: evil example"], status: 400 },
  { name: "a Host with '..' is refused", requestLine: "GET /orders/health HTTP/1.1", head: [], hostLines: ["Host: evil..example"], status: 400 },
  { name: "a Host with a port and a trailing dot is a host", requestLine: "GET /orders/health HTTP/1.1", head: [], hostLines: ["Host: api.example.:8080"], status: 200 },
  { name: "HTTP/1.0 without Host is served", requestLine: "GET /orders/health HTTP/1.0", head: [], hostLines: [], status: 200 },
  {
    name: "header names with '_' or '.' never reach the upstream (an upstream on CGI reads them as '-')",
    requestLine: "GET /orders/orders/1 HTTP/1.1",
    head: ["Authorization: Bearer {carol}", "X_Tollgate_Principal: forged-admin", "X_HTTP_Method_Override: DELETE", "X_Original_URL: /orders/export", "X.Forwarded.Prefix: /admin", "X_API_KEY: leaked"],
    status: 200,
    notForwarded: ["x_tollgate_principal", "x_http_method_override", "x_original_url", "x.forwarded.prefix", "x_api_key"],
  },
  {
    name: "the caller's Forwarded and X-Real-IP never reach the upstream",
    requestLine: "GET /orders/health HTTP/1.1",
    head: ["Forwarded: for=1.2.3.4;host=evil.example", "X-Real-IP: 1.2.3.4"],
    status: 200,
    notForwarded: ["forwarded", "x-real-ip"],
  },
  {
    name: "Expect: 100-continue on an allowed POST is answered and forwarded without the Expect",
    requestLine: "POST /orders/orders HTTP/1.1",
    head: ["Authorization: Bearer {alice}", "Expect: 100-continue", "Content-Type: application/json", "Content-Length: 2"],
    body: "{}",
    status: 200,
    notForwarded: ["expect"],
  },
];
