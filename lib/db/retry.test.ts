import { describe, expect, test } from "vitest";
import { AppError } from "@/lib/errors";
import { isRetryableDbError, retryTransaction } from "./retry";

// Shapes of the errors Prisma 6.19 throws through the pg driver adapter (see
// test/contention.test.ts for the real thing under load).
const p2028 = Object.assign(new Error("Transaction API error: Unable to start a transaction in the given time."), { code: "P2028" });
const deadlockRaw = Object.assign(new Error("Raw query failed. Code: `40P01`. Message: `deadlock detected`"), { code: "P2010" });
const adapterSerialization = Object.assign(new Error("x"), { cause: { kind: "postgres", originalCode: "40001" } });
const unique = Object.assign(new Error("Unique constraint failed"), { code: "P2002" });

describe("retryable database errors", () => {
  test("transaction start/expiry, deadlock and serialization failures are retryable; anything else is not", () => {
    expect([p2028, deadlockRaw, adapterSerialization].map(isRetryableDbError)).toEqual([true, true, true]);
    expect([unique, new Error("boom"), new AppError("conflict", "decided"), null].map(isRetryableDbError)).toEqual([false, false, false, false]);
  });

  test("a retryable failure is run again until it succeeds", async () => {
    let calls = 0;
    const out = await retryTransaction("do it", async () => {
      if (++calls < 3) throw p2028;
      return "done";
    }, { baseDelayMs: 1 });
    expect([out, calls]).toEqual(["done", 3]);
  });

  test("other errors propagate at once, unchanged", async () => {
    let calls = 0;
    const e = await retryTransaction("do it", async () => {
      calls++;
      throw unique;
    }).catch((x: unknown) => x);
    expect([e, calls]).toEqual([unique, 1]);
  });

  test("after the last attempt the caller gets a typed busy error (503), not the driver's text", async () => {
    let calls = 0;
    const e = await retryTransaction("record the decision", async () => {
      calls++;
      throw p2028;
    }, { attempts: 3, baseDelayMs: 1 }).catch((x: unknown) => x);
    expect(calls).toBe(3);
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ code: "busy", status: 503 });
    expect((e as Error).message).toMatch(/busy.*record the decision.*nothing was changed.*Try again/);
    expect((e as Error).message).not.toMatch(/P2028|Prisma|transaction API/i);
  });
});
