import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "@/test/support/db";
import { forwardAuthLocation, nginxAvailable, NGINX, startNginx, type Nginx } from "./nginx-support";
import { admin, call, spawnProxy, world, type ProxyProcess } from "./test-support";

// Forward-auth mode behind REAL nginx (auth_request), plus the Traefik/Caddy
// header dialect against the endpoint directly.

const hasNginx = nginxAvailable();
if (!hasNginx) console.warn(`forward-auth nginx tests skipped: ${NGINX} not found (apt-get install -y nginx-light)`);

let upstream: http.Server;
const seen: { url: string; principal: string | undefined }[] = [];
let proxy: ProxyProcess;
let nginx: Nginx | undefined;
let fixture: ReturnType<typeof world>;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seen.push({ url: req.url!, principal: req.headers["x-tollgate-principal"] as string | undefined });
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  fixture = world(`http://127.0.0.1:${upstreamPort}`);
  const ports = { data: await freePort(), admin: await freePort() };
  proxy = await spawnProxy({}, ports);
  if (hasNginx) {
    nginx = await startNginx(
      await freePort(),
      `${forwardAuthLocation(ports.data)}
    location / {
      auth_request /_tollgate_auth;
      auth_request_set $tollgate_principal $upstream_http_x_tollgate_principal;
      proxy_set_header X-Tollgate-Principal $tollgate_principal;
      proxy_pass http://127.0.0.1:${upstreamPort};
    }`,
    );
  }
});

afterAll(async () => {
  await nginx?.stop();
  await proxy?.stop("SIGKILL");
  upstream?.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe.skipIf(!hasNginx)("nginx auth_request", () => {
  test("before the first state nginx gets a 403, never a 5xx", async () => {
    const r = await call(nginx!.url, "GET", "/orders/orders", bearer(fixture.keys.alice));
    expect(r.status).toBe(403);
    expect(seen).toHaveLength(0);
    const push = await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "s1", ...fixture.snapshot });
    expect(push.status).toBe(200);
  });

  test("allowed requests reach the upstream with the principal", async () => {
    const r = await call(nginx!.url, "GET", "/orders/orders/17?x=1", bearer(fixture.keys.alice));
    expect(r.status).toBe(200);
    expect(seen.at(-1)).toEqual({ url: "/orders/orders/17?x=1", principal: fixture.ids.alice });
  });

  test("401 without a valid key, 403 without the scope, 403 (not 404 or 500) for unknown routes", async () => {
    const before = seen.length;
    expect((await call(nginx!.url, "GET", "/orders/orders")).status).toBe(401);
    expect((await call(nginx!.url, "GET", "/orders/orders", { "x-api-key": "nope" })).status).toBe(401);
    expect((await call(nginx!.url, "POST", "/orders/orders", bearer(fixture.keys.bob), "{}")).status).toBe(403);
    expect((await call(nginx!.url, "GET", "/orders/orders/1/secret", bearer(fixture.keys.alice))).status).toBe(403);
    expect(seen.length).toBe(before);
    const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/mode="forward_auth",decision="no_route"\} 1/);
  });

  test("the original method is what is checked: override headers do not help", async () => {
    const r = await call(nginx!.url, "POST", "/orders/orders", { ...bearer(fixture.keys.bob), "x-http-method-override": "GET" }, "{}");
    expect(r.status).toBe(403);
  });

  test("revocation applies to the next request through nginx", async () => {
    expect((await call(nginx!.url, "GET", "/orders/orders", bearer(fixture.keys.alice))).status).toBe(200);
    const rev = await admin(proxy.adminUrl, "POST", "/admin/v1/batch", { idempotencyKey: "rv", ops: [{ op: "delete", kind: "grant", id: fixture.ids.aliceRead }] });
    expect(rev.status).toBe(200);
    expect((await call(nginx!.url, "GET", "/orders/orders", bearer(fixture.keys.alice))).status).toBe(403);
    // Restore for the next describe block.
    await admin(proxy.adminUrl, "PUT", `/admin/v1/grants/${fixture.ids.aliceRead}`, { idempotencyKey: "restore", value: fixture.snapshot.grants[0] });
  });
});

describe("Traefik / Caddy headers", () => {
  test("X-Forwarded-Method and X-Forwarded-Uri are honoured; only 200/401/403 come back", async () => {
    if (!hasNginx) await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "s1", ...fixture.snapshot });
    const fa = (headers: Record<string, string>) => call(proxy.dataUrl, "GET", "/_tollgate/auth", headers);
    const ok = await fa({ "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/orders", "x-forwarded-host": "api.example.com", ...bearer(fixture.keys.alice) });
    expect(ok.status).toBe(200);
    expect(ok.headers["x-tollgate-principal"]).toBe(fixture.ids.alice);
    expect((await fa({ "x-forwarded-method": "POST", "x-forwarded-uri": "/orders/orders", ...bearer(fixture.keys.bob) })).status).toBe(403);
    expect((await fa({ "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/orders" })).status).toBe(401);
    const bads: Record<string, string>[] = [{}, { "x-forwarded-method": "GET" }, { "x-forwarded-method": "G E T", "x-forwarded-uri": "/orders/orders" }, { "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/%2e%2e/orders" }, { "x-forwarded-method": "GET", "x-forwarded-uri": "http://evil/orders/orders" }];
    for (const bad of bads) {
      const r = await fa({ ...bad, ...bearer(fixture.keys.alice) });
      expect(r.status, JSON.stringify(bad)).toBe(403);
    }
  });
});
