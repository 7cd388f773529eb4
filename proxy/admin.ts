import { createHash, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { z } from "zod";
import type { ProxyConfig } from "./config";
import { Core, IdempotencyConflict, NotReady, RevisionConflict } from "./core";
import { DIGEST_ALGORITHM, digestState, entriesIn } from "./digest";
import type { Metrics } from "./metrics";
import { batchBody, deleteBody, firstIssue, PLURAL, putBody, snapshotBody, valueSchemas, type Op } from "./schemas";
import { NdjsonError, readNdjsonSnapshot } from "./ndjson-snapshot";
import { grantWire, StateError } from "./state";
import { checkpointBody, CheckpointJournal } from "./audit-checkpoint";

// The admin API (/admin/v1) and /metrics. Contract: docs/ARCHITECTURE.md.

interface Ctx {
  config: ProxyConfig;
  core: Core;
  metrics: Metrics;
  log: Logger;
  gauges: () => { inFlight: number; pendingUsage: number };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/** A path segment decoded, or "" when it is not valid percent-encoding (then nothing matches it). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return "";
  }
}

const digest = (s: string | Buffer) => createHash("sha256").update(s).digest();

export function createAdminServer(ctx: Ctx): http.Server {
  const expected = digest(ctx.config.PROXY_ADMIN_TOKEN);
  const maxBody = ctx.config.PROXY_ADMIN_MAX_BODY_MB * 1024 * 1024;
  // The audit checkpoints this proxy witnessed: a journal beside the state file (proxy/audit-checkpoint.ts).
  const checkpoints = new CheckpointJournal(ctx.config.PROXY_STATE_FILE ? `${ctx.config.PROXY_STATE_FILE}.audit-checkpoints` : null);

  // Hashing both sides first gives equal-length buffers, so the comparison's
  // time does not depend on the token's length or content.
  const authorized = (req: IncomingMessage) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    return m !== null && timingSafeEqual(digest(m[1]), expected);
  };

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers["content-length"] ?? 0);
      if (declared > maxBody) return reject(new HttpError(413, "invalid_body", "body too large"));
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          req.destroy();
          reject(new HttpError(413, "invalid_body", "body too large"));
        } else chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });

  const parse = <S extends z.ZodType>(schema: S, raw: Buffer): z.infer<S> => {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString("utf8"));
    } catch {
      throw new HttpError(400, "invalid_body", "body is not valid JSON");
    }
    const r = schema.safeParse(json);
    if (!r.success) {
      const { field, message } = firstIssue(r.error);
      throw new HttpError(400, "invalid_body", message, field);
    }
    return r.data;
  };

  const requestHash = (req: IncomingMessage, raw: Buffer) =>
    createHash("sha256").update(`${req.method} ${req.url}\n`).update(raw).digest("hex");

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://admin");
    } catch {
      // An absolute-form target with a malformed authority ("http://[::1/…").
      throw new HttpError(400, "invalid_body", "the request target is not a valid URL", "url");
    }
    const path = url.pathname;
    const method = req.method ?? "";
    const core = ctx.core;

    if (path === "/metrics" && method === "GET") {
      const text = ctx.metrics.render({ revision: core.revision, ready: core.ready, counts: core.state?.counts() ?? {}, ...ctx.gauges() });
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      return void res.end(text);
    }
    if (path !== "/admin/v1" && !path.startsWith("/admin/v1/")) throw new HttpError(404, "not_found", "no such resource");
    if (!authorized(req)) throw new HttpError(401, "unauthorized", "admin token required");

    const sub = path.slice("/admin/v1".length);
    if (method === "GET" && sub === "/state") {
      return send(res, 200, {
        revision: core.revision,
        ready: core.ready,
        environment: core.environment,
        counts: core.state?.counts() ?? { apis: 0, routes: 0, credentials: 0, grants: 0 },
        lastSyncAt: core.lastSyncAt,
      });
    }
    if (method === "GET" && sub === "/ready") return send(res, core.ready ? 200 : 503, { ready: core.ready });
    if (method === "GET" && (sub === "/digest" || sub === "/digest/entries")) {
      if (!core.ready || !core.state) throw new HttpError(503, "not_ready", "no state loaded");
      const asOfRaw = url.searchParams.get("asOf");
      const asOf = asOfRaw === null ? Date.now() : Number(asOfRaw);
      if (!Number.isSafeInteger(asOf) || asOf < 0) throw new HttpError(400, "invalid_body", "asOf: must be epoch milliseconds", "asOf");
      // The revision the digest was taken at: a push conditioned on it (ifRevision) is refused if anything changed since.
      const revision = core.revision;
      if (sub === "/digest") return send(res, 200, { algorithm: DIGEST_ALGORITHM, revision, asOf, kinds: await digestState(core.state, asOf) });
      const kind = url.searchParams.get("kind");
      if (kind !== "api" && kind !== "route" && kind !== "credential" && kind !== "grant") throw new HttpError(400, "invalid_body", "kind: must be api, route, credential or grant", "kind");
      const buckets = (url.searchParams.get("buckets") ?? "").split(",").filter(Boolean);
      if (buckets.length === 0 || buckets.some((b) => !/^[0-9a-f]{2}$/.test(b))) throw new HttpError(400, "invalid_body", "buckets: comma-separated two-digit hex bucket numbers", "buckets");
      const entries = await entriesIn(core.state, kind, new Set(buckets.map((b) => parseInt(b, 16))), asOf);
      return send(res, 200, { algorithm: DIGEST_ALGORITHM, revision, asOf, kind, entries });
    }
    if (sub === "/audit-checkpoint" && method === "GET") {
      const latest = await checkpoints.latest();
      if (!latest) throw new HttpError(404, "not_found", "no audit checkpoint received yet");
      return send(res, 200, { checkpoint: latest });
    }
    if (sub === "/audit-checkpoint" && method === "PUT") {
      const body = parse(checkpointBody, await readBody(req));
      const r = await checkpoints.accept(body.checkpoint);
      return send(res, 200, { checkpoint: r.latest, newest: r.newest });
    }
    const grantGet = /^\/grants\/([^/]+)$/.exec(sub);
    if (method === "GET" && grantGet) {
      if (!core.state) throw new HttpError(503, "not_ready", "no state loaded");
      const g = core.state.grantsById.get(safeDecode(grantGet[1]));
      if (!g) throw new HttpError(404, "not_found", "no such grant");
      return send(res, 200, { grant: grantWire(g) });
    }

    if (method === "POST" && sub === "/batch") {
      const raw = await readBody(req);
      const body = parse(batchBody, raw);
      return send(res, 200, await core.mutate(body.idempotencyKey, requestHash(req, raw), body.ops, body.ifRevision));
    }
    if (method === "PUT" && sub === "/snapshot" && (req.headers["content-type"] ?? "").startsWith("application/x-ndjson")) {
      let streamed;
      try {
        // Against the state being served: the replacement is applied as a difference (proxy/state-diff.ts).
        streamed = await readNdjsonSnapshot(req, { maxBytes: maxBody, hashPrefix: `${req.method} ${req.url}\n`, against: core.state });
      } catch (e) {
        if (e instanceof NdjsonError) throw new HttpError(e.field === "body" ? 413 : 400, "invalid_body", e.message, e.field);
        throw e;
      }
      if (streamed.diff) return send(res, 200, await core.replaceByDiff(streamed.idempotencyKey!, streamed.hash, streamed.diff, streamed.ifRevision));
      return send(res, 200, await core.replace(streamed.idempotencyKey!, streamed.hash, streamed.state!, undefined, streamed.ifRevision));
    }
    if (method === "PUT" && sub === "/snapshot") {
      const raw = await readBody(req);
      const body = parse(snapshotBody, raw);
      const hash = requestHash(req, raw);
      return send(res, 200, await core.replace(body.idempotencyKey, hash, body, undefined, body.ifRevision));
    }
    const item = /^\/(apis|routes|credentials|grants)\/([^/]+)$/.exec(sub);
    if (item && (method === "PUT" || method === "DELETE")) {
      const kind = PLURAL[item[1]];
      const id = safeDecode(item[2]);
      const raw = await readBody(req);
      let op: Op;
      let key: string;
      if (method === "PUT") {
        const body = parse(putBody, raw);
        const r = valueSchemas[kind].safeParse(body.value);
        if (!r.success) {
          const { field, message } = firstIssue(r.error);
          throw new HttpError(400, "invalid_body", field ? `value.${message}` : `value: ${message}`, field ? `value.${field}` : "value");
        }
        if (r.data.id !== id) throw new HttpError(400, "invalid_body", "value.id: must equal the id in the path", "value.id");
        op = { op: "upsert", kind, value: r.data } as Op;
        key = body.idempotencyKey;
      } else {
        const body = parse(deleteBody, raw);
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new HttpError(400, "invalid_body", "id: must be a uuid", "id");
        op = { op: "delete", kind, id };
        key = body.idempotencyKey;
      }
      return send(res, 200, await core.mutate(key, requestHash(req, raw), [op]));
    }
    throw new HttpError(404, "not_found", "no such resource");
  }

  const server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 300_000 }, (req, res) => {
    route(req, res).catch((e: unknown) => {
      let err: HttpError;
      if (e instanceof HttpError) err = e;
      else if (e instanceof StateError) err = new HttpError(400, "invalid_body", `${e.field}: ${e.message}`, e.field);
      else if (e instanceof IdempotencyConflict) err = new HttpError(409, "idempotency_conflict", e.message);
      else if (e instanceof RevisionConflict) err = new HttpError(409, "revision_conflict", e.message, "ifRevision");
      else if (e instanceof NotReady) err = new HttpError(503, "not_ready", e.message || "no state loaded yet: push a snapshot first"); // the nginx controller says why its data plane refused
      else {
        ctx.log.error({ err: e }, "admin request failed");
        err = new HttpError(500, "internal", "internal error");
      }
      if (res.headersSent) return void res.destroy();
      // Do not keep reading a body we are refusing (e.g. 401 before a 500 MB upload).
      if (!req.complete) res.setHeader("connection", "close");
      send(res, err.status, { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
    });
  });
  (server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
  });
  return server;
}
