import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "@/test/support/db";
import { admin, call, spawnProxy, world, type ProxyProcess } from "./test-support";

// The data plane's upstream timeouts (proxy/deadlines.ts), against the real
// proxy and a real upstream that misbehaves on purpose. Timing is the point here,
// so every margin is explicit and wide enough for a busy 2-core machine (issue 14:
// with 400 ms timeouts, a starved upstream in this very process was taken for a
// slow one and "a client that reads slowly" got a 504): the timeouts are TIMEOUT_MS,
// a "steady" gap is a fifth of it, and "too long" is at least 1.6 times it.
const TIMEOUT_MS = 2_000;
const GAP_MS = TIMEOUT_MS / 5;
/** How long a raw exchange may take at most: only a safety net, exchanges end when the proxy closes. */
const CAP_MS = 60_000;

let upstream: http.Server;
let proxy: ProxyProcess;
let fixture: ReturnType<typeof world>;
const BIG = 8 * 1024 * 1024;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const url = req.url ?? "";
    if (url.includes("hang")) return void req.resume(); // never answers
    if (url.includes("stall")) {
      // Headers and a first chunk, then silence.
      res.writeHead(200, { "content-type": "text/plain" });
      return void res.write("first chunk\n");
    }
    if (url.includes("trickle")) {
      // A chunk every GAP_MS for 8 gaps (1.6x the timeout): each gap is well within the body timeout, the whole is not.
      res.writeHead(200, { "content-type": "text/plain" });
      let n = 0;
      const t = setInterval(() => {
        res.write(`chunk ${n}\n`);
        if (++n === 8) {
          clearInterval(t);
          res.end();
        }
      }, GAP_MS);
      return;
    }
    if (url.includes("big")) {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": BIG });
      return void res.end(Buffer.alloc(BIG, 7));
    }
    // Echo the request body's length once it has all arrived.
    let size = 0;
    req.on("data", (c: Buffer) => (size += c.length));
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ size })));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  fixture = world(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  // Alice holds read and write: every route of the fixture is hers.
  proxy = await spawnProxy({ PROXY_HEADERS_TIMEOUT_MS: String(TIMEOUT_MS), PROXY_BODY_TIMEOUT_MS: String(TIMEOUT_MS) }, { data: await freePort(), admin: await freePort() });
  const r = await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "t1", ...fixture.snapshot });
  expect(r.status).toBe(200);
});

afterAll(async () => {
  await proxy?.stop("SIGKILL");
  upstream?.closeAllConnections();
  upstream?.close();
});

const auth = () => ({ authorization: `Bearer ${fixture.keys.alice}` });

/** A raw HTTP/1.1 exchange: the bytes the proxy sent until it closed or `ms` passed. */
function raw(request: string, ms: number, opts: { readAfterMs?: number } = {}): Promise<{ text: string; bytes: number; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(Number(new URL(proxy.dataUrl).port), "127.0.0.1");
    let text = "";
    let bytes = 0;
    let closed = false;
    if (opts.readAfterMs) {
      s.pause();
      setTimeout(() => s.resume(), opts.readAfterMs);
    }
    s.on("data", (d) => {
      bytes += d.length;
      if (text.length < 4096) text += d.toString("latin1");
    });
    s.on("close", () => (closed = true));
    s.on("error", () => undefined);
    s.write(request);
    const done = () => resolve({ text, bytes, closed });
    s.on("close", done);
    setTimeout(() => (s.destroy(), done()), ms);
  });
}

describe("upstream timeouts", () => {
  test("an upstream that never answers gets 504 after the headers timeout", async () => {
    const t = performance.now();
    const r = await call(proxy.dataUrl, "GET", "/orders/orders/hang", auth());
    const ms = performance.now() - t;
    expect(r.status).toBe(504);
    expect(r.body.error.code).toBe("gateway_timeout");
    // Not before the timeout (less a little timer slack), and not never: the upper bound only rules out a hang.
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(ms).toBeLessThan(CAP_MS);
  });

  test("an upstream that stalls mid-body is cut off: the client sees a truncated response, not a hang", async () => {
    const r = await raw(`GET /orders/orders/stall HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${fixture.keys.alice}\r\n\r\n`, CAP_MS);
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    expect(r.text).toContain("first chunk");
    expect(r.closed).toBe(true);
    // Chunked encoding never got its terminating chunk: the client can tell the body is incomplete.
    expect(r.text).not.toMatch(/\r\n0\r\n\r\n$/);
  });

  test("a slow but steady body is not cut off: the body timeout is per gap, not for the whole body", async () => {
    const r = await call(proxy.dataUrl, "GET", "/orders/orders/trickle", auth());
    expect(r.status).toBe(200);
    expect(String(r.body).trim().split("\n")).toHaveLength(8);
  });

  test("an upload that takes longer than the headers timeout still gets its answer", async () => {
    const port = Number(new URL(proxy.dataUrl).port);
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/orders/orders", headers: { ...auth(), "content-type": "text/plain", "transfer-encoding": "chunked" } }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      });
      req.on("error", reject);
      let n = 0;
      const t = setInterval(() => {
        req.write("x".repeat(1000));
        if (++n === 10) {
          clearInterval(t);
          req.end();
        }
      }, TIMEOUT_MS / 4); // 10 pieces: 2.5x the headers timeout of upload
    });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toEqual({ size: 10_000 });
  });

  test("a client that reads slowly is not mistaken for a slow upstream: the whole body arrives", async () => {
    // The client reads nothing for twice the body timeout.
    const r = await raw(`GET /orders/orders/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${fixture.keys.alice}\r\nConnection: close\r\n\r\n`, CAP_MS, {
      readAfterMs: 2 * TIMEOUT_MS,
    });
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    const headerBytes = r.text.indexOf("\r\n\r\n") + 4;
    expect(r.bytes - headerBytes).toBe(BIG);
  });

  test("after the timeouts, nothing is left behind and the proxy still serves", async () => {
    const r = await call(proxy.dataUrl, "GET", "/orders/orders", auth());
    expect(r.status).toBe(200);
    const m = await call(proxy.adminUrl, "GET", "/metrics");
    expect(String(m.body)).toMatch(/tollgate_proxy_in_flight_requests 0/);
  });
});
