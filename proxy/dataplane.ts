import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { Pool, type Dispatcher } from "undici";
import type { ProxyConfig } from "./config";
import type { Core } from "./core";
import type { EnforcementState } from "./state";
import { UpstreamDeadlines, type Watched } from "./deadlines";
import { decide, recordAllowedUsage, type Decision } from "./decide";
import { queryWithoutKeys } from "./key-location";
import { hasEncodedSpecial } from "./normalize";
import { clientNetwork } from "./network";
import { forwardableName, headDefect } from "./request-head";
import type { Metrics } from "./metrics";
import type { UsageAggregator } from "./usage";

// The data plane: decide, then stream the request to the API's upstream through
// a pooled undici client and stream the answer back. Also serves forward-auth
// (/_tollgate/auth) for gateways that proxy themselves.

export const FORWARD_AUTH_PATH = "/_tollgate/auth";
const FORWARD_AUTH_QUERY = FORWARD_AUTH_PATH + "?";

// Never forwarded: hop-by-hop headers, the caller's own claims about identity,
// method-override headers (the matched method is the only method) and headers
// with which some upstream frameworks rewrite the path (IIS/Symfony/Laravel read
// X-Original-URL and X-Rewrite-URL, others X-Forwarded-Uri/-Prefix): the path
// that was matched is the only path.
const STRIP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
  "x-tollgate-principal",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "x-original-url",
  "x-rewrite-url",
  "x-forwarded-uri",
  "x-forwarded-prefix",
  "x-original-uri",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  // The caller's own forwarding claims (this proxy sets X-Forwarded-*), and Expect: Node's server has already
  // answered "100 Continue", and undici refuses to send the header (the request would fail as a 502).
  "forwarded",
  "x-real-ip",
  "expect",
]);
const RESPONSE_STRIP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

interface Ctx {
  config: ProxyConfig;
  core: Core;
  metrics: Metrics;
  usage: UsageAggregator;
  log: Logger;
}

const ERRORS: Record<string, [number, string, string]> = {
  not_ready: [503, "not_ready", "The proxy has no enforcement state yet"],
  bad_request: [400, "bad_request", "The request path is not acceptable"],
  unauthenticated: [401, "unauthorized", "A valid API key is required"],
  no_route: [404, "not_found", "No such endpoint"],
  forbidden: [403, "forbidden", "This API key may not call this endpoint"],
  bad_gateway: [502, "bad_gateway", "The upstream API could not be reached"],
  gateway_timeout: [504, "gateway_timeout", "The upstream API did not answer in time"],
};

function sendError(res: ServerResponse, kind: keyof typeof ERRORS): void {
  const [status, code, message] = ERRORS[kind];
  const body = JSON.stringify({ error: { code, message } });
  const headers: http.OutgoingHttpHeaders = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="tollgate"';
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * The request a gateway asks about. Gateways copy the client's own headers into
 * the auth request, so a client can add the *other* dialect's headers (e.g.
 * `X-Original-URI` behind Traefik, which only sets `X-Forwarded-Uri`). When both
 * dialects are present they must agree, and the method comes from the same
 * dialect as the URI, so a forged header can only make the answer a 403.
 */
export function describedRequest(h: IncomingMessage["headers"]): { method: string; uri: string } | null {
  const one = (name: string) => (typeof h[name] === "string" ? (h[name] as string) : undefined);
  const oUri = one("x-original-uri");
  const fUri = one("x-forwarded-uri");
  const oMethod = one("x-original-method")?.toUpperCase();
  const fMethod = one("x-forwarded-method")?.toUpperCase();
  if (oUri !== undefined && fUri !== undefined && oUri !== fUri) return null;
  if (oMethod !== undefined && fMethod !== undefined && oMethod !== fMethod) return null;
  const uri = oUri ?? fUri;
  const method = oUri !== undefined ? (oMethod ?? (fUri !== undefined ? fMethod : undefined)) : fMethod;
  if (!uri || method === undefined || !/^[A-Z]{1,16}$/.test(method)) return null;
  return { method, uri };
}

/**
 * One request: what its close listener needs, its upstream exchange's timeouts
 * (deadlines.ts), and the handler undici streams the upstream's answer into.
 * The handler's callbacks are this class's methods rather than closures made per
 * request: this is on every request's path.
 */
class Exchange implements Watched, Dispatcher.DispatchHandler {
  decision = "error";
  principal: string | null = null;
  /** The upstream exchange once dispatched, to abort when the client leaves first or the upstream is too slow. */
  upstream: Dispatcher.DispatchController | null = null;
  clientGone = false;
  since = 0;
  headersReceived = false;
  watched = false;
  prevWatched: Exchange | null = null;
  nextWatched: Exchange | null = null;
  /** Whether the forwarded request streams a body up (set by forward()). */
  hasBody = false;
  /** The API's upstream, named in the log when it fails. */
  upstreamUrl = "";

  constructor(
    readonly plane: DataPlane,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly started: number,
    readonly mode: "proxy" | "forward_auth",
  ) {}

  expire(code: "UND_ERR_HEADERS_TIMEOUT" | "UND_ERR_BODY_TIMEOUT"): void {
    const err = new Error(code === "UND_ERR_HEADERS_TIMEOUT" ? "upstream headers timeout" : "upstream body timeout") as Error & { code: string };
    err.code = code;
    this.upstream?.abort(err);
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.upstream = c;
    if (this.clientGone) return void c.abort(new Error("client closed the connection"));
    this.plane.deadlines.watch(this, this.hasBody && !this.req.readableEnded);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, upstreamHeaders: IncomingHttpHeaders): void {
    this.headersReceived = true;
    this.plane.deadlines.touch(this);
    // A flat [name, value, …] list (Node takes it as is): names vary per
    // upstream, and building an object keyed by them is the slow path.
    const out: string[] = [];
    for (const k in upstreamHeaders) {
      const v = upstreamHeaders[k];
      if (v === undefined || RESPONSE_STRIP.has(k)) continue;
      if (typeof v === "string") out.push(k, v);
      else for (const one of v) out.push(k, one);
    }
    this.res.writeHead(statusCode, out);
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    const deadlines = this.plane.deadlines;
    deadlines.touch(this);
    if (!this.res.write(chunk)) {
      c.pause();
      deadlines.hold(this);
      this.res.once("drain", () => {
        deadlines.resume(this);
        c.resume();
      });
    }
  }

  onResponseEnd(): void {
    this.plane.deadlines.done(this);
    this.res.end();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error & { code?: string }): void {
    this.plane.deadlines.done(this);
    if (this.clientGone) return;
    const res = this.res;
    if (res.headersSent) return void res.destroy();
    const timeout = err.code === "UND_ERR_HEADERS_TIMEOUT" || err.code === "UND_ERR_BODY_TIMEOUT" || err.code === "UND_ERR_CONNECT_TIMEOUT";
    this.plane.ctx.log.warn({ err: err.message, code: err.code, upstream: this.upstreamUrl }, "upstream failed");
    sendError(res, timeout ? "gateway_timeout" : "bad_gateway");
  }

  /** The request body has been sent: from now on the headers timeout runs (as in undici). */
  requestBodyEnded(): void {
    if (!this.headersReceived) this.plane.deadlines.resume(this);
  }
}

/** The shared refusal of an encoded special (see DataPlane.refused): nothing to allocate per request. */
const ENCODED_SPECIAL: Decision = Object.freeze({ kind: "bad_request", reason: "encoded_special" });

const EXCHANGE = Symbol("tollgate.exchange");
type TrackedResponse = ServerResponse & { [EXCHANGE]: Exchange };

/**
 * Runs once per request when its response closes (finished or not): metrics,
 * the access log, and stopping the upstream exchange when the client went away
 * first. One shared function with the request's state on the response, rather
 * than a closure per request: this is on every request's path.
 */
function onResponseClose(this: TrackedResponse): void {
  const x = this[EXCHANGE];
  const { ctx } = x.plane;
  x.plane.inFlight--;
  if (!this.writableFinished) {
    x.clientGone = true;
    x.upstream?.abort(new Error("client closed the connection"));
  }
  const seconds = (performance.now() - x.started) / 1000;
  ctx.metrics.decision(x.mode, x.decision);
  ctx.metrics.latency(seconds);
  if (ctx.config.PROXY_ACCESS_LOG) {
    const req = x.req;
    ctx.log.info({ mode: x.mode, method: req.method, url: req.url?.slice(0, 512), status: this.statusCode, decision: x.decision, principal: x.principal, ms: Math.round(seconds * 1e4) / 10 }, "request");
  }
}

function noteDecision(x: Exchange, d: Decision): void {
  x.decision = d.kind;
  if ("principalId" in d) x.principal = d.principalId;
}

export class DataPlane {
  readonly server: http.Server;
  private readonly pools = new Map<string, Pool>();
  private readonly upstreams = new Map<string, { pool: Pool; base: string }>();
  readonly deadlines: UpstreamDeadlines;
  /** PROXY_TRUSTED_PROXIES: whose X-Forwarded-For names the client network (usage signals). */
  private readonly trustedProxies: ReadonlySet<string>;
  inFlight = 0;

  constructor(readonly ctx: Ctx) {
    this.trustedProxies = new Set(ctx.config.PROXY_TRUSTED_PROXIES);
    this.deadlines = new UpstreamDeadlines(ctx.config.PROXY_HEADERS_TIMEOUT_MS, ctx.config.PROXY_BODY_TIMEOUT_MS);
    this.server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 60_000, headersTimeout: 20_000 }, (req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
    // Every header line is read (Node's default keeps the first 2,000 names and values and drops the rest silently,
    // so a key or a gateway's header after enough filler would go unseen); maxHeaderSize bounds the head.
    this.server.maxHeadersCount = 0;
    // A client that half-closes after sending its request still gets the answer
    // (Node's default aborts the request on the client's FIN).
    (this.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // CONNECT (tunnels) is not a data-plane operation: answer 405 instead of
    // dropping the socket silently.
    this.server.on("connect", (_req, socket) => {
      socket.on("error", () => socket.destroy());
      const body = JSON.stringify({ error: { code: "method_not_allowed", message: "CONNECT is not supported" } });
      socket.end(`HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    // A malformed request never reaches handle(); answer 400 instead of resetting.
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      if (socket.writable && !(socket as unknown as { _httpMessage?: unknown })._httpMessage) {
        const code = err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
        socket.end(`HTTP/1.1 ${code} ${code === 431 ? "Request Header Fields Too Large" : "Bad Request"}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      } else socket.destroy();
    });
  }

  private upstream(url: string): { pool: Pool; base: string } {
    let u = this.upstreams.get(url);
    if (!u) {
      const parsed = new URL(url);
      let pool = this.pools.get(parsed.origin);
      if (!pool) {
        const c = this.ctx.config;
        pool = new Pool(parsed.origin, {
          connections: c.PROXY_UPSTREAM_CONNECTIONS,
          connectTimeout: c.PROXY_CONNECT_TIMEOUT_MS,
          // Enforced by this.deadlines instead (see deadlines.ts for why).
          headersTimeout: 0,
          bodyTimeout: 0,
          keepAliveTimeout: c.PROXY_UPSTREAM_KEEPALIVE_MS,
          pipelining: 1,
        });
        this.pools.set(parsed.origin, pool);
      }
      u = { pool, base: parsed.pathname.replace(/\/+$/, "") };
      this.upstreams.set(url, u);
    }
    return u;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "";
    const isForwardAuth = url === FORWARD_AUTH_PATH || url.startsWith(FORWARD_AUTH_QUERY);
    this.inFlight++;
    const x = new Exchange(this, req, res, performance.now(), isForwardAuth ? "forward_auth" : "proxy");
    (res as TrackedResponse)[EXCHANGE] = x;
    res.on("close", onResponseClose);
    if (headDefect(req.rawHeaders) !== null) {
      x.decision = "bad_request";
      res.setHeader("connection", "close");
      return sendError(res, "bad_request");
    }
    if (isForwardAuth) return this.forwardAuth(req, res, x);
    // A request Transfer-Encoding other than plain "chunked" has no defined
    // length (RFC 9112 §6.3): refuse it before anything is forwarded, rather than
    // letting the body parser fail half-way through a forwarded request.
    const te = req.headers["transfer-encoding"];
    if (te !== undefined && te.trim().toLowerCase() !== "chunked") {
      x.decision = "bad_request";
      res.setHeader("connection", "close");
      return sendError(res, "bad_request");
    }

    const now = Date.now();
    const state = this.ctx.core.serving;
    const d = this.refused(state, url) ?? decide(state, req.method ?? "", url, req.headers, now);
    noteDecision(x, d);
    if (d.kind === "no_route") this.ctx.usage.recordShadow(d.apiId, req.method ?? "", d.shadowPath, d.keyHash, now);
    if (d.kind !== "allow") return sendError(res, d.kind);
    // state is non-null here: only a serving state allows.
    recordAllowedUsage(state!, d, now, this.ctx.usage);
    this.signal(req, d, now);
    this.forward(req, d, x);
  }

  /** Usage signals of an allowed request with a key (public routes have none). */
  private signal(req: IncomingMessage, d: Extract<Decision, { kind: "allow" }>, now: number): void {
    if (d.credentialId === null || this.ctx.usage.signals === null) return;
    this.ctx.usage.recordSignal(d.credentialId, d.grantId, d.route.id, clientNetwork(req, this.trustedProxies), now);
  }

  private forward(req: IncomingMessage, d: Extract<Decision, { kind: "allow" }>, x: Exchange): void {
    const { pool, base } = this.upstream(d.api.upstream);
    // A flat [name, value, …] list: undici takes it as is, without an object to build and walk.
    const headers: string[] = [];
    const conn = req.headers.connection;
    // Headers named in Connection are hop-by-hop too ("keep-alive" and "close" are the common, harmless case).
    const connectionListed = typeof conn === "string" && conn !== "keep-alive" && conn !== "close" ? conn.toLowerCase().split(/\s*,\s*/) : null;
    const forwardKey = this.ctx.config.PROXY_FORWARD_API_KEY;
    const incoming = req.headers;
    // When keys are forwarded, only the header whose key was checked goes on
    // (Authorization wins, as in presentedKey): an upstream that reads the other
    // one must not see a second, unchecked key.
    const checkedKeyHeader = incoming.authorization !== undefined ? "authorization" : "x-api-key";
    // An API with its own key location (imported from Kong) keeps Authorization
    // and X-API-Key as ordinary headers and drops its own key names instead.
    const loc = d.api.keyLocation;
    const ownKeyHeaders = d.api.keyHeaders;
    for (const name in incoming) {
      const value = incoming[name];
      if (value === undefined || STRIP.has(name) || !forwardableName(name) || (connectionListed !== null && connectionListed.includes(name))) continue;
      if (ownKeyHeaders !== null) {
        if (!forwardKey && ownKeyHeaders.has(name)) continue;
      } else if ((name === "authorization" || name === "x-api-key") && (!forwardKey || name !== checkedKeyHeader)) continue;
      if (typeof value === "string") headers.push(name, value);
      else for (const v of value) headers.push(name, v); // one line per value, as undici writes an array
    }
    if (d.principalId) headers.push("x-tollgate-principal", d.principalId);
    headers.push("x-forwarded-for", req.socket.remoteAddress ?? "", "x-forwarded-proto", "http");
    if (incoming.host) headers.push("x-forwarded-host", incoming.host);

    const hasBody = incoming["content-length"] !== undefined ? incoming["content-length"] !== "0" : incoming["transfer-encoding"] !== undefined;
    const query = loc && !forwardKey ? queryWithoutKeys(loc, d.query) : d.query;
    const path = base + (d.rest || (base ? "" : "/")) + query;
    x.hasBody = hasBody;
    x.upstreamUrl = d.api.upstream;
    if (hasBody) req.once("end", () => x.requestBodyEnded());
    // dispatch() with a handler streams both ways without the extra stream
    // layers of request()/stream() (undici's fastest client path); the
    // Exchange is the handler.
    pool.dispatch({ path: path.startsWith("/") ? path : "/" + path, method: req.method as Dispatcher.HttpMethod, headers, body: hasBody ? req : null }, x);
  }

  /**
   * PROXY_REFUSE_ENCODED_SPECIALS (on by default): an encoded "%", "/", "\\" or
   * "." in the path is refused, because an upstream that decodes twice would see
   * "/orders/%252e%252e%252fadmin" as "/orders/../admin". Not ready wins, as in decide().
   */
  private refused(state: EnforcementState | null, target: string): Decision | null {
    if (!state || !this.ctx.config.PROXY_REFUSE_ENCODED_SPECIALS) return null;
    return hasEncodedSpecial(target) ? ENCODED_SPECIAL : null;
  }

  /** Forward-auth answers only 200, 401 or 403: gateways turn anything else into 500 or pass it through. */
  private forwardAuth(req: IncomingMessage, res: ServerResponse, x: Exchange): void {
    const h = req.headers;
    const described = describedRequest(h);
    const now = Date.now();
    const state = this.ctx.core.serving;
    const d: Decision = described
      ? (this.refused(state, described.uri) ?? decide(state, described.method, described.uri, h, now))
      : { kind: "bad_request", reason: "missing_or_conflicting_original_request" };
    noteDecision(x, d);
    if (d.kind === "no_route") this.ctx.usage.recordShadow(d.apiId, described!.method, d.shadowPath, d.keyHash, now);
    const body = (code: string) => JSON.stringify({ error: { code } });
    if (d.kind === "allow") {
      recordAllowedUsage(state!, d, now, this.ctx.usage);
      this.signal(req, d, now);
      res.writeHead(200, { "x-tollgate-principal": d.principalId ?? "", "content-length": 0 });
      return void res.end();
    }
    if (d.kind === "unauthenticated") {
      const b = body("unauthorized");
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="tollgate"', "content-length": Buffer.byteLength(b) });
      return void res.end(b);
    }
    const b = body(d.kind === "not_ready" ? "not_ready" : "forbidden");
    res.writeHead(403, { "content-type": "application/json", "content-length": Buffer.byteLength(b) });
    res.end(b);
  }

  async closePools(): Promise<void> {
    this.deadlines.close();
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
  }
}
