import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { freePort } from "@/test/support/db";
import { ADMIN_TOKEN, admin, FUZZ_SEGMENTS as SEGMENTS, prng, spawnProxy, world, type ProxyProcess } from "./test-support";

// Property test: thousands of malformed requests over raw sockets against both
// listeners. The proxy must not crash, must answer nothing in 5xx except 503
// while it has no state, and must not change its state.

let upstream: http.Server;
let proxy: ProxyProcess;
let ports: { data: number; admin: number };
let fixture: ReturnType<typeof world>;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200).end("ok"));
    req.on("error", () => undefined);
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  fixture = world(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  ports = { data: await freePort(), admin: await freePort() };
  proxy = await spawnProxy({ PROXY_ADMIN_MAX_BODY_MB: "2" }, ports);
});

afterAll(async () => {
  await proxy?.stop("SIGKILL");
  upstream?.close();
});

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "FOO", "get", "CONNECT", "TRACE", "G-T", "PROPFIND"];

function randomRequest(rand: () => number, adminSide: boolean): Buffer {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const method = pick(METHODS);
  let target: string;
  const shape = rand();
  if (shape < 0.05) target = "*";
  else if (shape < 0.1) target = "http://evil.example/orders/orders";
  else if (shape < 0.13) target = "/" + "../".repeat(50) + "etc/passwd";
  else if (shape < 0.3 && !adminSide) target = `/orders/orders/${Math.floor(rand() * 1e6)}`;
  else {
    const n = 1 + Math.floor(rand() * 5);
    const base = adminSide ? pick(["/admin/v1", "/admin/v1/batch", "/admin/v1/grants", "/admin/v1/snapshot", "/metrics", "/admin"]) : pick(["/orders", "/orders/orders", "", "/_tollgate/auth"]);
    target = base;
    for (let i = 0; i < n; i++) target += (rand() < 0.1 ? "//" : "/") + pick(SEGMENTS);
  }
  const headers: string[] = [`Host: 127.0.0.1`, "Connection: close"];
  const h = rand();
  if (h < 0.3) headers.push(`Authorization: Bearer ${adminSide ? ADMIN_TOKEN : fixture.keys.alice}`);
  else if (h < 0.4) headers.push(`X-API-Key: ${fixture.keys.bob}, ${fixture.keys.alice}`);
  else if (h < 0.45) for (let i = 0; i < 60; i++) headers.push(`Authorization: Bearer k${i}`);
  else if (h < 0.5) headers.push(`X-Big: ${"b".repeat(20_000 + Math.floor(rand() * 50_000))}`);
  else if (h < 0.55) headers.push(`Authorization: Bearer ${"z".repeat(5000)}`);
  else if (h < 0.6) headers.push("Bad Header: x", "X-Ok: \x01\x02");
  else if (h < 0.65) headers.push("X-HTTP-Method-Override: DELETE", `Authorization: Bearer ${fixture.keys.alice}`);
  else if (h < 0.7) headers.push(`X-Original-URI: /orders/%2e%2e/orders`, "X-Original-Method: GET", `Authorization: Bearer ${fixture.keys.alice}`);
  let body = "";
  const b = rand();
  if (b < 0.2) body = "{not json";
  else if (b < 0.3) body = "[".repeat(5000) + "]".repeat(5000);
  else if (b < 0.4) body = JSON.stringify({ idempotencyKey: 42, ops: "nope" });
  else if (b < 0.5) body = JSON.stringify({ idempotencyKey: "k", ops: [{ op: "upsert", kind: "grant", value: { id: "x" } }] });
  else if (b < 0.55) body = JSON.stringify({ idempotencyKey: "k", apis: [{ id: 1 }], routes: null });
  else if (b < 0.6) body = "\u0000\uffff".repeat(100);
  const framing = rand();
  if (body) {
    if (framing < 0.7) headers.push(`Content-Length: ${Buffer.byteLength(body)}`);
    else if (framing < 0.8) headers.push(`Content-Length: ${Buffer.byteLength(body) + 10}`); // short body, then EOF
    else if (framing < 0.9) headers.push("Transfer-Encoding: chunked", `Content-Length: 5`); // smuggling shape
    else {
      headers.push("Transfer-Encoding: chunked");
      body = `zz\r\n${body}\r\n0\r\n\r\n`;
    }
  }
  return Buffer.concat([Buffer.from(`${method} ${target} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`, "latin1"), Buffer.from(body, "utf8")]);
}

function send(port: number, payload: Buffer): Promise<number | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let data = "";
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      s.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : null);
    };
    s.setTimeout(3000, finish);
    s.on("data", (d) => {
      data += d.toString("latin1");
      if (/^HTTP\/1\.[01] \d{3}/.test(data)) finish();
    });
    s.on("error", finish);
    s.on("close", finish);
    s.on("connect", () => {
      s.write(payload);
      s.end();
    });
  });
}

async function fuzz(seed: number, count: number, ready: boolean) {
  const rand = prng(seed);
  const statuses = new Map<string, number>();
  const bad: string[] = [];
  const jobs: Buffer[][] = [];
  for (let i = 0; i < count; i++) {
    const adminSide = i % 2 === 1;
    jobs.push([Buffer.from(adminSide ? "a" : "d"), randomRequest(rand, adminSide)]);
  }
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [side, payload] = jobs[next++];
      const status = await send(side.toString() === "a" ? ports.admin : ports.data, payload);
      const k = `${side}:${status}`;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
      if (status !== null && status >= 500 && !(status === 503 && !ready)) bad.push(`${status} <- ${payload.toString("latin1").slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { statuses, bad };
}

test("1,200 malformed requests before the first state: only 4xx or 503, no crash", async () => {
  const { statuses, bad } = await fuzz(1, 1200, false);
  expect(bad).toEqual([]);
  expect(proxy.child.exitCode).toBeNull();
  const st = await admin(proxy.adminUrl, "GET", "/admin/v1/state");
  expect(st.body).toMatchObject({ revision: 0, ready: false });
  // The run really exercised both listeners.
  expect([...statuses.keys()].some((k) => k.startsWith("d:4"))).toBe(true);
  expect([...statuses.keys()].some((k) => k.startsWith("a:4"))).toBe(true);
});

test("1,200 malformed requests once ready: no 5xx, no crash, state unchanged", async () => {
  const push = await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "s", ...fixture.snapshot });
  expect(push.body).toEqual({ revision: 1, applied: true });
  const { statuses, bad } = await fuzz(2, 1200, true);
  expect(bad).toEqual([]);
  expect(proxy.child.exitCode).toBeNull();
  const st = await admin(proxy.adminUrl, "GET", "/admin/v1/state");
  expect(st.body).toMatchObject({ revision: 1, ready: true, counts: { apis: 1, routes: 5, credentials: 3, grants: 3 } });
  // Hand-picked shapes next to the random ones: malformed escapes in admin ids, absurd bodies with a valid token.
  const auth = `Authorization: Bearer ${ADMIN_TOKEN}\r\nConnection: close\r\nHost: x`;
  const picked = [
    `GET /admin/v1/grants/%zz HTTP/1.1\r\n${auth}\r\n\r\n`,
    `GET /admin/v1/grants/%E0%A4%A HTTP/1.1\r\n${auth}\r\n\r\n`,
    `DELETE /admin/v1/grants/%zz HTTP/1.1\r\n${auth}\r\nContent-Length: 21\r\n\r\n{"idempotencyKey":"x"}`,
    `PUT /admin/v1/routes/%ff HTTP/1.1\r\n${auth}\r\nContent-Length: 2\r\n\r\n{}`,
    `PUT /admin/v1/snapshot HTTP/1.1\r\n${auth}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 9\r\n\r\n{"a":1}\n\n`,
    `PUT /admin/v1/snapshot HTTP/1.1\r\n${auth}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 40\r\n\r\n{"idempotencyKey":"n"}\n{"kind":"x"}\n\u0000`,
    `POST /admin/v1/batch HTTP/1.1\r\n${auth}\r\nContent-Length: 3\r\n\r\nnul`,
  ];
  for (const raw of picked) {
    const status = await send(ports.admin, Buffer.from(raw, "latin1"));
    expect(status === null || status < 500, `${status} <- ${raw.slice(0, 80)}`).toBe(true);
  }
  expect((await admin(proxy.adminUrl, "GET", "/admin/v1/state")).body.revision).toBe(1);
  // Still serving normally afterwards.
  const ok = await send(ports.data, Buffer.from(`GET /orders/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${fixture.keys.alice}\r\nConnection: close\r\n\r\n`));
  expect(ok).toBe(200);
  expect(statuses.get("d:200") ?? 0).toBeGreaterThan(0); // some well-formed-enough requests were allowed through
});
