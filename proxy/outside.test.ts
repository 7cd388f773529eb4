import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "@/test/support/db";
import { ADMIN_TOKEN, admin, sha, spawnProxy, world, type ProxyProcess } from "./test-support";

// What an outside tester sends at the real proxy over raw sockets (node `net`):
// odd request targets, conflicting credentials, smuggling, pipelining, odd
// methods, forged forward-auth headers. The invariant: a request whose key
// lacks the scope never reaches the upstream, and nothing answers 5xx except
// the documented 502/503/504.

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  apiKey?: string;
}
let upstream: http.Server;
const seen: Seen[] = [];
let proxy: ProxyProcess;
let ports: { data: number; admin: number };
let fixture: ReturnType<typeof world>;
const carolKey = "tg_live_carol_" + randomUUID();

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, apiKey: req.headers["x-api-key"] as string | undefined });
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
    req.on("error", () => undefined);
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  fixture = world(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  // Carol holds the read scope only: GET /orders/orders is hers, /orders/orders/export and POST are not.
  const carol = randomUUID();
  fixture.snapshot.credentials.push({ id: randomUUID(), principalId: carol, hash: sha(carolKey), expiresAt: null });
  fixture.snapshot.grants.push({ id: randomUUID(), principalId: carol, scopeId: fixture.ids.readScope, expiresAt: null });
  ports = { data: await freePort(), admin: await freePort() };
  // Forwarding keys is the riskier configuration (the upstream sees credentials), so test that one.
  proxy = await spawnProxy({ PROXY_FORWARD_API_KEY: "true" }, ports);
  const push = await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "outside", ...fixture.snapshot });
  expect(push.status).toBe(200);
});

afterAll(async () => {
  await proxy?.stop("SIGKILL");
  upstream?.close();
});

/** Writes raw bytes, returns every status line received until the server closes or `ms` pass. */
function raw(port: number, text: string, ms = 350): Promise<{ statuses: number[]; text: string }> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let out = "";
    const done = () => resolve({ statuses: [...out.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1])), text: out });
    s.on("data", (d) => (out += d));
    s.on("error", () => undefined);
    s.on("close", done);
    s.write(text);
    setTimeout(() => s.destroy(), ms);
  });
}

const CAROL = () => `Authorization: Bearer ${carolKey}\r\n`;
const ALICE = () => `Authorization: Bearer ${fixture.keys.alice}\r\n`;
const forbiddenReachedUpstream = (from: number) => seen.slice(from).filter((s) => s.url.includes("export") || (s.method === "POST" && s.authorization?.includes("carol")));

describe("data plane over raw sockets", () => {
  test("odd targets are rejected or matched canonically; carol never reaches a route she lacks", async () => {
    const targets: [string, number][] = [
      ["/orders/orders/1/..;/export", 400],
      ["/orders/orders/1/%2e%2e/export", 400],
      ["/orders/orders/1%2fexport", 400],
      ["/orders//orders/export", 400],
      ["/orders/./orders/export", 400],
      ["/ORDERS/orders/export", 404],
      ["/orders/orders/1%00", 400],
      ["/orders/orders/%C0%AE%C0%AE/export", 400], // overlong "." in broken decoders
      ["/orders/orders/%C0%AE", 400],
      ["/orders/orders/%80", 400], // lone continuation byte
      ["/orders/orders/%ED%A0%80", 400], // UTF-16 surrogate
      ["http://evil.example/orders/orders/export", 400],
      ["/orders/orders/export", 403],
      ["/orders/orders/export/", 403],
    ];
    const before = seen.length;
    for (const [target, status] of targets) {
      const r = await raw(ports.data, `GET ${target} HTTP/1.1\r\nHost: x\r\n${CAROL()}\r\n`);
      expect(r.statuses, target).toEqual([status]);
    }
    expect(seen.length).toBe(before);
    // Valid UTF-8 escapes stay allowed (and are forwarded as matched).
    expect((await raw(ports.data, `GET /orders/orders/caf%c3%a9 HTTP/1.1\r\nHost: x\r\n${CAROL()}\r\n`)).statuses).toEqual([200]);
    expect(seen.at(-1)?.url).toBe("/orders/caf%C3%A9");
  });

  test("a second credential header never widens access, and only the checked key is forwarded", async () => {
    const before = seen.length;
    // Duplicate Authorization: refused before any key is read, as nginx refuses it (Node would keep the first).
    const dup = await raw(ports.data, `POST /orders/orders HTTP/1.1\r\nHost: x\r\n${CAROL()}${ALICE()}Content-Length: 0\r\n\r\n`);
    expect(dup.statuses).toEqual([400]);
    // Authorization wins over X-API-Key, and a non-Bearer Authorization does not fall back to X-API-Key.
    const mixed = await raw(ports.data, `POST /orders/orders HTTP/1.1\r\nHost: x\r\n${CAROL()}X-API-Key: ${fixture.keys.alice}\r\nContent-Length: 0\r\n\r\n`);
    expect(mixed.statuses).toEqual([403]);
    const basic = await raw(ports.data, `POST /orders/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YTpi\r\nX-API-Key: ${fixture.keys.alice}\r\nContent-Length: 0\r\n\r\n`);
    expect(basic.statuses).toEqual([401]);
    const twoApiKeys = await raw(ports.data, `POST /orders/orders HTTP/1.1\r\nHost: x\r\nX-API-Key: ${carolKey}\r\nX-API-Key: ${fixture.keys.alice}\r\nContent-Length: 0\r\n\r\n`);
    expect(twoApiKeys.statuses).toEqual([401]);
    expect(seen.length).toBe(before);

    // Allowed with carol's Bearer key: the upstream must not also receive alice's X-API-Key,
    // or an upstream that reads X-API-Key would act as alice on a request checked as carol.
    const allowed = await raw(ports.data, `GET /orders/orders HTTP/1.1\r\nHost: x\r\n${CAROL()}X-API-Key: ${fixture.keys.alice}\r\n\r\n`);
    expect(allowed.statuses).toEqual([200]);
    expect(seen.at(-1)).toMatchObject({ authorization: `Bearer ${carolKey}`, apiKey: undefined });
    const viaApiKey = await raw(ports.data, `GET /orders/orders HTTP/1.1\r\nHost: x\r\nX-API-Key: ${carolKey}\r\n\r\n`);
    expect(viaApiKey.statuses).toEqual([200]);
    expect(seen.at(-1)).toMatchObject({ authorization: undefined, apiKey: carolKey });
    // Scheme case does not matter (RFC 9110 §11.1).
    expect((await raw(ports.data, `GET /orders/orders HTTP/1.1\r\nHost: x\r\nauthorization: bEaReR ${carolKey}\r\n\r\n`)).statuses).toEqual([200]);
  });

  test("a head of 1,100 lines is read whole: a key repeated past line 1,000 is still a key given twice", async () => {
    const before = seen.length;
    const filler = "a:j\r\n".repeat(1100); // Node kept only the first 1,000 lines by default and dropped the rest unseen
    const dup = await raw(ports.data, `GET /orders/orders HTTP/1.1\r\nHost: x\r\nX-API-Key: ${carolKey}\r\n${filler}X-API-Key: ${fixture.keys.alice}\r\n\r\n`);
    expect(dup.statuses).toEqual([401]);
    const late = await raw(ports.data, `GET /orders/orders HTTP/1.1\r\nHost: x\r\n${filler}${CAROL()}\r\n`);
    expect(late.statuses).toEqual([200]);
    expect(seen.length).toBe(before + 1);
  });

  test("smuggling, pipelining and method overrides are each decided on their own", async () => {
    const before = seen.length;
    const teCl = await raw(ports.data, `POST /orders/orders HTTP/1.1\r\nHost: x\r\n${ALICE()}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /orders/orders/export HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(teCl.statuses).toEqual([400]);
    const dupCl = await raw(ports.data, `POST /orders/orders HTTP/1.1\r\nHost: x\r\n${ALICE()}Content-Length: 0\r\nContent-Length: 30\r\n\r\n`);
    expect(dupCl.statuses).toEqual([400]);
    // A Transfer-Encoding that is not plain chunked has no length: 400 before anything is forwarded.
    const xchunked = await raw(ports.data, `POST /orders/orders HTTP/1.1\r\nHost: x\r\n${ALICE()}Transfer-Encoding: xchunked\r\n\r\nabc`);
    expect(xchunked.statuses).toEqual([400]);
    const gzipChunked = await raw(ports.data, `POST /orders/orders HTTP/1.1\r\nHost: x\r\n${ALICE()}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`);
    expect(gzipChunked.statuses).toEqual([400]);
    expect(seen.length).toBe(before);

    // A chunked body that hides a second request: the hidden one is parsed and decided as carol's own request.
    const hidden = await raw(ports.data, `POST /orders/orders HTTP/1.1\r\nHost: x\r\n${ALICE()}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /orders/orders/export HTTP/1.1\r\nHost: x\r\n${CAROL()}\r\n`);
    expect(hidden.statuses).toEqual([200, 403]);
    const pipelined = await raw(ports.data, `GET /orders/orders HTTP/1.1\r\nHost: x\r\n${CAROL()}\r\nGET /orders/orders/export HTTP/1.1\r\nHost: x\r\n${CAROL()}\r\nPOST /orders/orders HTTP/1.1\r\nHost: x\r\n${CAROL()}Content-Length: 0\r\n\r\n`);
    expect(pipelined.statuses).toEqual([200, 403, 403]);
    const override = await raw(ports.data, `GET /orders/orders HTTP/1.1\r\nHost: x\r\n${CAROL()}X-HTTP-Method-Override: POST\r\nX-Method-Override: DELETE\r\n\r\n`);
    expect(override.statuses).toEqual([200]);
    expect(seen.at(-1)?.method).toBe("GET");
    expect(forbiddenReachedUpstream(before)).toEqual([]);
  });

  test("HEAD, OPTIONS, TRACE, CONNECT, HTTP/1.0 and asterisk-form get sane 4xx answers", async () => {
    const before = seen.length;
    expect((await raw(ports.data, `HEAD /orders/orders/export HTTP/1.1\r\nHost: x\r\n${CAROL()}\r\n`)).statuses).toEqual([403]);
    expect((await raw(ports.data, `OPTIONS /orders/orders HTTP/1.1\r\nHost: x\r\n${CAROL()}\r\n`)).statuses).toEqual([404]);
    expect((await raw(ports.data, `TRACE /orders/orders HTTP/1.1\r\nHost: x\r\n${CAROL()}\r\n`)).statuses).toEqual([404]);
    expect((await raw(ports.data, `OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n`)).statuses).toEqual([400]);
    const connect = await raw(ports.data, `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n${CAROL()}\r\n`);
    expect(connect.statuses).toEqual([405]);
    expect(connect.text).toContain('"method_not_allowed"');
    expect((await raw(ports.data, `GET /orders/orders/export HTTP/1.0\r\n${CAROL()}\r\n`)).statuses).toEqual([403]);
    expect((await raw(ports.data, `GET /orders/${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${CAROL()}\r\n`)).statuses).toEqual([431]);
    expect(seen.length).toBe(before);
    expect((await raw(ports.data, `HEAD /orders/orders HTTP/1.1\r\nHost: x\r\n${CAROL()}\r\n`)).statuses).toEqual([200]);
  });
});

describe("forward-auth with forged headers", () => {
  const fa = (headers: string) => raw(ports.data, `GET /_tollgate/auth HTTP/1.1\r\nHost: x\r\n${headers}${CAROL()}\r\n`);

  test("the gateway's own dialect is honoured, with a query string and escapes", async () => {
    expect((await fa("X-Forwarded-Method: GET\r\nX-Forwarded-Uri: /orders/orders?page=2&q=a%20b\r\nX-Forwarded-Host: api.example.com\r\n")).statuses).toEqual([200]);
    expect((await fa("X-Original-Method: GET\r\nX-Original-URI: /orders/%6Frders\r\n")).statuses).toEqual([200]);
    // Both dialects present and agreeing (a gateway chain) is fine.
    expect((await fa("X-Original-Method: GET\r\nX-Original-URI: /orders/orders\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Uri: /orders/orders\r\n")).statuses).toEqual([200]);
  });

  test("a client adding the other dialect's headers cannot change what is checked", async () => {
    // Behind Traefik/Caddy (X-Forwarded-*), a client forges X-Original-URI naming a route it holds.
    expect((await fa("X-Forwarded-Method: GET\r\nX-Forwarded-Uri: /orders/orders/export\r\nX-Original-URI: /orders/orders\r\nX-Original-Method: GET\r\n")).statuses).toEqual([403]);
    // Behind Traefik, a client forges X-Original-Method to turn its POST into a GET.
    expect((await fa("X-Forwarded-Method: POST\r\nX-Forwarded-Uri: /orders/orders\r\nX-Original-Method: GET\r\n")).statuses).toEqual([403]);
    // Behind an nginx that sets only X-Original-URI, a client-sent X-Forwarded-Method is not trusted.
    expect((await fa("X-Original-URI: /orders/orders\r\nX-Forwarded-Method: GET\r\n")).statuses).toEqual([403]);
  });

  test("the gateway's headers after 1,100 client lines are still read", async () => {
    const filler = "a:j\r\n".repeat(1100);
    // A client puts a description of a route it holds first; the gateway appends the real one after the client's lines.
    expect((await fa(`X-Original-Method: GET\r\nX-Original-Uri: /orders/orders/1\r\n${filler}X-Forwarded-Method: GET\r\nX-Forwarded-Uri: /orders/orders/export\r\n`)).statuses).toEqual([403]);
  });

  test("missing, duplicated or absolute descriptions are 403, never another status", async () => {
    for (const h of ["", "X-Forwarded-Method: GET\r\n", "X-Forwarded-Uri: /orders/orders\r\n", "X-Forwarded-Method: GET\r\nX-Forwarded-Uri: /orders/orders\r\nX-Forwarded-Uri: /orders/orders/export\r\n", "X-Forwarded-Method: GET\r\nX-Forwarded-Uri: http://evil/orders/orders\r\n", "X-Forwarded-Method: GET\r\nX-Forwarded-Uri: //orders/orders\r\n", "X-Forwarded-Method: GET\r\nX-Forwarded-Uri: /orders/orders/%C0%AE\r\n"]) {
      expect((await fa(h)).statuses, JSON.stringify(h)).toEqual([403]);
    }
  });
});

describe("admin API from outside", () => {
  test("a malformed absolute-form target is a 400, not a 500; wrong-case schemes and no token are 401", async () => {
    const bad = await raw(ports.admin, `GET http://[::1/admin/v1/state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`);
    expect(bad.statuses).toEqual([400]);
    expect((await raw(ports.admin, `GET /admin/v1/state HTTP/1.1\r\nHost: x\r\n\r\n`)).statuses).toEqual([401]);
    expect((await raw(ports.admin, `GET /admin/v1/state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN.toUpperCase()}\r\n\r\n`)).statuses).toEqual([401]);
    expect((await raw(ports.admin, `GET /admin/v1/state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}x\r\n\r\n`)).statuses).toEqual([401]);
    const state = await admin(proxy.adminUrl, "GET", "/admin/v1/state");
    expect(state.body).toMatchObject({ revision: 1, ready: true });
  });

  test("wrong types, prototype keys and huge ids change nothing", async () => {
    const bodies = ['{"idempotencyKey":1,"ops":"x"}', '{"__proto__":{"ops":[]},"idempotencyKey":"k"}', JSON.stringify({ idempotencyKey: "k2", ops: [{ op: "delete", kind: "grant", id: "x".repeat(100_000) }] }), JSON.stringify({ idempotencyKey: "k3", ops: [{ op: "upsert", kind: "grant", value: { id: randomUUID(), principalId: randomUUID(), scopeId: randomUUID(), expiresAt: "yesterday" } }] })];
    for (const b of bodies) {
      const r = await admin(proxy.adminUrl, "POST", "/admin/v1/batch", b);
      expect(r.status, b.slice(0, 60)).toBe(400);
    }
    expect((await admin(proxy.adminUrl, "GET", "/admin/v1/state")).body).toMatchObject({ revision: 1, counts: { grants: 4 } });
  });
});
