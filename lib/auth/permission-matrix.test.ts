import { afterAll, beforeAll, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { listAuditEvents, parseAuditFilter, verifyAuditChainAs } from "@/lib/audit/query";
import { can, ROLES, type Actor, type Role } from "./actor";
import { createTokenFromForm, listServiceTokens } from "./token-admin";
import { revokeServiceToken } from "./service-tokens";
import { updateTwoPersonRule } from "./sod";
import { markNotificationsRead } from "@/lib/notifications";
import { createWebhook, listWebhooks } from "@/lib/webhooks/admin";

// Every role against every identity/audit entry point, called directly (not
// through the UI). A denied call is a 403 and leaves the database unchanged.
let tdb: TestDatabase;
let client: PrismaClient;
let tokenId: string;

const as = (role: Role): Actor => ({ kind: "user", userId: "00000000-0000-4000-8000-0000000000a1", email: `${role}@example.test`, name: role, roles: [role], principalId: null });

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 2);
  // db() (used by the audit page's reads) must point at this database too.
  process.env.DATABASE_URL = tdb.url;
  await client.user.create({ data: { id: "00000000-0000-4000-8000-0000000000a1", email: "caller@example.test", name: "Caller", roles: [] } });
  tokenId = (await createTokenFromForm({ kind: "system", name: "test" }, { name: "existing", scopes: ["scim"] }, client)).id;
});
afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

async function snapshot() {
  const [tokens, events, settings] = await Promise.all([
    client.serviceToken.findMany({ orderBy: { id: "asc" } }),
    client.auditEvent.count(),
    client.setting.findMany({ orderBy: { key: "asc" } }),
  ]);
  return JSON.stringify({ tokens, events, settings });
}

const calls = {
  "audit list": { permission: "audit:read", run: (a: Actor) => listAuditEvents(a, parseAuditFilter({})) },
  "audit verify": { permission: "audit:read", run: (a: Actor) => verifyAuditChainAs(a) },
  "token list": { permission: "tokens:manage", run: (a: Actor) => listServiceTokens(a, client) },
  "token create": { permission: "tokens:manage", run: (a: Actor) => createTokenFromForm(a, { name: "t", scopes: ["usage:ingest"] }, client) },
  "token revoke": { permission: "tokens:manage", run: (a: Actor) => revokeServiceToken(a, tokenId, client) },
  "two-person rule update": {
    permission: "settings:write",
    run: (a: Actor) => updateTwoPersonRule(a, { enabled: true, levels: ["admin"], environments: ["production", "staging"] }, client),
  },
  "webhook list": { permission: "settings:write", run: (a: Actor) => listWebhooks(a, client) },
  "webhook create": { permission: "settings:write", run: (a: Actor) => createWebhook(a, { name: `wh-${(a as { name: string }).name}`, url: "https://hooks.example.com/t", events: ["anomaly"] }, client) },
  "notifications mark read": { permission: "notifications:read", run: (a: Actor) => markNotificationsRead(a, { all: true }, client) },
} as const;

for (const role of ROLES) {
  for (const [name, call] of Object.entries(calls)) {
    const allowed = can(as(role), call.permission);
    test(`${role} ${allowed ? "may" : "may not"} ${name}`, async () => {
      if (allowed) {
        await expect(call.run(as(role))).resolves.not.toThrow();
        return;
      }
      const before = await snapshot();
      await expect(call.run(as(role))).rejects.toMatchObject({ status: 403 });
      expect(await snapshot()).toBe(before);
    });
  }
}

test("a service token without the scope is refused too", async () => {
  const svc: Actor = { kind: "service", tokenId: "x", name: "proxy", scopes: ["usage:ingest", "proxy:sync"] };
  const before = await snapshot();
  for (const call of Object.values(calls)) await expect(call.run(svc)).rejects.toMatchObject({ status: 403 });
  expect(await snapshot()).toBe(before);
});
