import { createHash, randomBytes, randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { signIn as signInAs, sql } from "./support/stack";

// An admin imports an OpenAPI description on an API's page, reviews the diff,
// applies it, and the real proxy then enforces the new endpoint: 403 for a
// key without the scope, 200 once a grant for the imported scope exists. Then
// an undocumented path shows on /discovery and is added to the inventory.
const PROXY = process.env.E2E_PROXY_URL!;
const ADMIN = process.env.E2E_PROXY_ADMIN_URL!;
const ADMIN_TOKEN = process.env.E2E_PROXY_ADMIN_TOKEN!;
const UPSTREAM = process.env.E2E_UPSTREAM_URL!;
const signIn = (page: Page) => signInAs(page, "admin@tollgate.test");

const DOC = `openapi: 3.0.3
info: { title: E2E Imports, version: "1" }
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows: { clientCredentials: { tokenUrl: "https://id.example/token", scopes: { "things:read": "read things" } } }
security: [ { oauth: [ "things:read" ] } ]
paths:
  /things/{id}:
    get:
      parameters: [ { name: id, in: path, required: true, schema: { type: string } } ]
      responses: { "200": { description: ok } }
  /health:
    get:
      security: []
      responses: { "200": { description: ok } }
`;

async function admin(method: string, path: string, body: unknown) {
  const res = await fetch(`${ADMIN}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status, `${method} ${path}`).toBe(200);
}

test("import through the UI, review the diff, apply, and the proxy enforces the new endpoint", async ({ page }) => {
  const [env] = await sql<{ id: string }>(`SELECT e.id FROM "Environment" e JOIN "Proxy" p ON p."environmentId" = e.id LIMIT 1`);
  const apiId = randomUUID();
  const name = `e2e-imports-${[...randomBytes(6)].map((b) => String.fromCharCode(97 + (b % 26))).join("")}`;
  await sql(`INSERT INTO "Api" (id, name, "baseUrl", "environmentId", "updatedAt") VALUES ($1, $2, $3, $4, now())`, [apiId, name, UPSTREAM, env.id]);

  await signIn(page);
  await page.goto(`/apis/${apiId}`);
  const upload = page.getByTestId("openapi-upload");
  await upload.getByLabel("OpenAPI file").setInputFiles({ name: "things.yaml", mimeType: "application/yaml", buffer: Buffer.from(DOC) });
  await upload.getByRole("button", { name: "Show changes" }).click();
  const diff = page.getByTestId("import-diff");
  await expect(diff).toContainText("+ GET /things/{id} things:read[read]");
  await expect(diff).toContainText("+ GET /health (public)");
  await expect(diff).toContainText("+ scope things:read [read]");
  expect(await sql(`SELECT 1 FROM "Endpoint" WHERE "apiId" = $1`, [apiId])).toHaveLength(0); // the diff wrote nothing
  await diff.getByRole("button", { name: "Apply" }).click();
  await expect(upload.getByRole("status")).toContainText("2 endpoints added");
  await expect(page.getByTestId("endpoints-table")).toContainText("/things/{id}");

  // A key the proxy knows, for a principal holding no scope of this API.
  const key = `tg_live_${randomBytes(16).toString("hex")}`;
  const principalId = randomUUID();
  const credentialId = randomUUID();
  // Written to the database as well as pushed to the proxy: drift repair compares content, so a
  // credential or grant the proxy holds and the database does not is drift, and it is removed.
  await sql(`INSERT INTO "Principal" (id, kind, "displayName", "homeEnvironmentId", "updatedAt") VALUES ($1, 'service_account', $2, $3, now())`, [principalId, `${name}-svc`, env.id]);
  await sql(`INSERT INTO "Credential" (id, "principalId", prefix, hash) VALUES ($1, $2, $3, $4)`, [credentialId, principalId, key.slice(0, 12), createHash("sha256").update(key).digest("hex")]);
  await admin("PUT", `/admin/v1/credentials/${credentialId}`, { idempotencyKey: randomUUID(), value: { id: credentialId, principalId, hash: createHash("sha256").update(key).digest("hex"), expiresAt: null } });
  const prefix = `/${name}`;
  const call = (headers: Record<string, string> = {}) => fetch(`${PROXY}${prefix}/things/42`, { headers }).then((r) => r.status);

  // The import reached the proxy through the outbox: the route exists (403, not 404) within seconds.
  await expect.poll(() => call({ "x-api-key": key }), { timeout: 15_000 }).toBe(403);
  expect(await call()).toBe(401);
  expect(await fetch(`${PROXY}${prefix}/health`).then((r) => r.status)).toBe(200);

  const [scope] = await sql<{ id: string }>(`SELECT id FROM "Scope" WHERE "apiId" = $1 AND name = 'things:read'`, [apiId]);
  const grantId = randomUUID();
  await sql(`INSERT INTO "Grant" (id, "principalId", "scopeId", "environmentId") VALUES ($1, $2, $3, $4)`, [grantId, principalId, scope.id, env.id]);
  await admin("PUT", `/admin/v1/grants/${grantId}`, { idempotencyKey: randomUUID(), value: { id: grantId, principalId, scopeId: scope.id, expiresAt: null } });
  await expect.poll(() => call({ "x-api-key": key }), { timeout: 5_000 }).toBe(200);

  // An undocumented path: the proxy reports it, it shows on /discovery within seconds, and adding it
  // to the inventory makes the proxy enforce it (403: the new scope orders nobody holds yet).
  const shadow = () => fetch(`${PROXY}${prefix}/things/42/undocumented`, { method: "POST", headers: { "x-api-key": key } }).then((r) => r.status);
  expect(await shadow()).toBe(404);
  // The proxy may fold the prefix segment itself ("e2e-…" contains a digit) into {param}.
  const row = page.getByTestId("shadow-table").locator("tr", { hasText: "/things/{param}/undocumented" }).filter({ hasText: name });
  await expect
    .poll(async () => {
      await page.goto("/discovery");
      return row.count();
    }, { timeout: 20_000, intervals: [1000] })
    .toBe(1);
  await expect(row).toContainText("POST");
  await row.getByRole("button", { name: "Add to inventory" }).click();
  await expect(row).toHaveCount(0);
  await expect.poll(shadow, { timeout: 15_000 }).toBe(403);
  const [added] = await sql<{ name: string; level: string }>(
    `SELECT s.name, s.level FROM "Endpoint" e JOIN "EndpointScope" es ON es."endpointId" = e.id JOIN "Scope" s ON s.id = es."scopeId" WHERE e."apiId" = $1 AND e."pathTemplate" = '/things/{param}/undocumented'`,
    [apiId],
  );
  expect(added).toEqual({ name: "things:write", level: "write" });
});

// Issue 17, point 3: an endpoint removed from the description but kept (its scope is held) stays
// routed; Discovery lists it as a zombie, its traffic opens a finding, and an admin stops routing it.
test("a zombie endpoint shows on /discovery with its traffic, and Stop routing makes the proxy answer 404", async ({ page }) => {
  test.slow(); // two imports, a usage report and a delivery to the proxy: minutes on a busy machine
  const [env] = await sql<{ id: string }>(`SELECT e.id FROM "Environment" e JOIN "Proxy" p ON p."environmentId" = e.id LIMIT 1`);
  const apiId = randomUUID();
  const name = `e2e-zombies-${[...randomBytes(6)].map((b) => String.fromCharCode(97 + (b % 26))).join("")}`;
  await sql(`INSERT INTO "Api" (id, name, "baseUrl", "environmentId", "updatedAt") VALUES ($1, $2, $3, $4, now())`, [apiId, name, UPSTREAM, env.id]);
  const withOld = DOC + `  /old/report:
    get:
      security: [ { oauth: [ "things:read" ] } ]
      responses: { "200": { description: ok } }
`;
  await signIn(page);
  const importDoc = async (doc: string, expected: string) => {
    await page.goto(`/apis/${apiId}`);
    const upload = page.getByTestId("openapi-upload");
    await upload.getByLabel("OpenAPI file").setInputFiles({ name: "things.yaml", mimeType: "application/yaml", buffer: Buffer.from(doc) });
    await upload.getByRole("button", { name: "Show changes" }).click();
    const diff = page.getByTestId("import-diff");
    await expect(diff).toBeVisible();
    // Deprecating an endpoint that grants still hold asks for the API's name, typed (issue 19, point 9).
    const typed = diff.getByLabel("Type the API name to confirm");
    if (await typed.count()) {
      await expect(diff.getByRole("button", { name: "Apply" })).toBeDisabled();
      await typed.fill(name);
    }
    await diff.getByRole("button", { name: "Apply" }).click();
    await expect(upload.getByRole("status")).toContainText(expected);
  };
  await importDoc(withOld, "3 endpoints added");

  // A principal holding things:read, in the database and on the proxy.
  const key = `tg_live_${randomBytes(16).toString("hex")}`;
  const principalId = randomUUID();
  const credentialId = randomUUID();
  const grantId = randomUUID();
  const [scope] = await sql<{ id: string }>(`SELECT id FROM "Scope" WHERE "apiId" = $1 AND name = 'things:read'`, [apiId]);
  const hash = createHash("sha256").update(key).digest("hex");
  await sql(`INSERT INTO "Principal" (id, kind, "displayName", "updatedAt") VALUES ($1, 'service_account', 'zombie caller', now())`, [principalId]);
  await sql(`INSERT INTO "Credential" (id, "principalId", prefix, hash) VALUES ($1, $2, 'tg_live_z', $3)`, [credentialId, principalId, hash]);
  await sql(`INSERT INTO "Grant" (id, "principalId", "scopeId", "environmentId") VALUES ($1, $2, $3, $4)`, [grantId, principalId, scope.id, env.id]);
  await admin("PUT", `/admin/v1/credentials/${credentialId}`, { idempotencyKey: randomUUID(), value: { id: credentialId, principalId, hash, expiresAt: null } });
  await admin("PUT", `/admin/v1/grants/${grantId}`, { idempotencyKey: randomUUID(), value: { id: grantId, principalId, scopeId: scope.id, expiresAt: null } });
  const old = () => fetch(`${PROXY}/${name}/old/report`, { headers: { "x-api-key": key } }).then((r) => r.status);
  await expect.poll(old, { timeout: 15_000 }).toBe(200);

  // The description drops /old/report: the endpoint is kept (its scope is held) and still routed.
  await importDoc(DOC, "0 endpoints added");
  expect(await old()).toBe(200);

  const row = page.getByTestId("zombie-table").locator("tr", { hasText: "/old/report" }).filter({ hasText: name });
  await expect
    .poll(async () => {
      await old(); // traffic the proxy reports with its usage
      await page.goto("/discovery");
      return (await row.count()) === 1 ? await row.innerText() : "";
    }, { timeout: 30_000, intervals: [1000] })
    .toContain("finding");
  page.once("dialog", (d) => void d.accept("retired: callers moved to /things"));
  await row.getByRole("button", { name: "Stop routing" }).click();
  await expect(row).toContainText("stopped");
  await expect.poll(old, { timeout: 15_000 }).toBe(404);
  expect(await fetch(`${PROXY}/${name}/things/42`, { headers: { "x-api-key": key } }).then((r) => r.status)).toBe(200);
});
