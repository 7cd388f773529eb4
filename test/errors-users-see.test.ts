import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeActionFailure } from "@/components/review/action-failure";
import { actionClient } from "@/lib/action";
import { errorBody } from "@/lib/auth/http";
import { authorizeDemo } from "@/lib/auth/options";
import type { UserActor } from "@/lib/auth/session";
import { createDb, type PrismaClient } from "@/lib/db";
import { isDatabaseUnavailable } from "@/lib/db/unavailable";
import { conflict } from "@/lib/errors";
import { revokeGrant, revokeInput } from "@/lib/review";
import { freePort } from "@/test/support/db";

// Issue 14 item 5: what a person sees when things go wrong. The database
// "outage" is real: a Prisma client pointed at a port where nothing listens.
let dead: PrismaClient;
let deadHost = "";
const reviewer: UserActor = { kind: "user", userId: randomUUID(), email: "r@tollgate.test", name: "R", roles: ["reviewer"], principalId: null };

beforeAll(async () => {
  const port = await freePort();
  deadHost = `127.0.0.1:${port}`;
  dead = createDb(`postgresql://postgres@${deadHost}/tollgate_gone`, 1);
  process.env.NEXTAUTH_SECRET ??= "a-test-secret-of-enough-length";
});
afterAll(async () => {
  await dead?.$disconnect().catch(() => undefined);
});

async function realOutageError(): Promise<unknown> {
  return dead.user.findFirst().then(
    () => {
      throw new Error("expected the unreachable database to fail");
    },
    (e: unknown) => e,
  );
}

describe("database unavailable", () => {
  it("is recognised from Prisma's real error, and only from such errors", async () => {
    expect(isDatabaseUnavailable(await realOutageError())).toBe(true);
    expect(isDatabaseUnavailable(new Error("boom"))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error("unique"), { code: "P2002" }))).toBe(false);
    expect(isDatabaseUnavailable(conflict("stale"))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error("x"), { code: "57P01" }))).toBe(true);
    expect(isDatabaseUnavailable(new Error("wrapped", { cause: Object.assign(new Error("socket"), { code: "ECONNREFUSED" }) }))).toBe(true);
  });

  it("a decision during an outage says the database is unavailable (503), not 'Something went wrong'", async () => {
    const { status, body } = errorBody(await realOutageError());
    expect(status).toBe(503);
    expect(body.error.code).toBe("unavailable");
    expect(body.error.message).toMatch(/database is unavailable right now, so nothing was changed\. Try again/);
    expect(body.error.message).not.toContain("Something went wrong");
    expect(body.error.message).not.toContain(deadHost);

    // The one action contract (lib/action.ts) gives the same answer to the UI.
    const { action } = actionClient(async () => reviewer);
    const revoke = action(revokeInput, (input, { actor }) => revokeGrant(actor, input, dead));
    const r = await revoke({ findingId: randomUUID() });
    expect(r).toMatchObject({ ok: false, error: { code: "unavailable" } });
    if (!r.ok) {
      expect(r.error.message).toMatch(/^The database is unavailable right now, so nothing was changed\. Try again in a moment\. \(log id /);
      expect(r.error.message).not.toContain(deadHost);
    }
  });

  it("sign-in during an outage throws a fixed code (it becomes ?error=<code>), never Prisma's text", async () => {
    const err = await authorizeDemo({ email: "admin@tollgate.test", password: "tollgate-demo" }, "203.0.113.9", dead).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("DatabaseUnavailable");
  });
});

describe("a conflict from a server action", () => {
  it("tells the reviewer what happened and asks the queue to reload", () => {
    const f = describeActionFailure({ code: "conflict", message: "This finding was decided by someone else." });
    expect(f.reload).toBe(true);
    expect(f.message).toContain("This finding was decided by someone else.");
    expect(f.message).toMatch(/reloaded with its current state/);
    expect(describeActionFailure({ code: "bad_request", message: "justification: is required" })).toEqual({ message: "justification: is required", reload: false });
  });

  it("works on the contract's own failure shape (lib/action.ts)", async () => {
    const { action } = actionClient(async () => reviewer);
    const decided = action(revokeInput, async () => {
      throw conflict("This finding was decided by someone else.");
    });
    const r = await decided({ findingId: randomUUID() });
    expect(r).toMatchObject({ ok: false, error: { code: "conflict" } });
    if (r.ok) throw new Error("expected a refusal");
    expect(describeActionFailure(r.error)).toEqual({
      message: "Not applied: This finding was decided by someone else. The finding has been reloaded with its current state; review it and decide again if still needed.",
      reload: true,
    });
  });
});
