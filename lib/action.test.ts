import { notFound, redirect } from "next/navigation";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { UserActor } from "@/lib/auth/session";
import { AppError, forbidden } from "@/lib/errors";
import { actionClient, formFields } from "./action";

const alice: UserActor = { kind: "user", userId: "u1", email: "alice@example.test", name: "Alice", roles: ["reviewer"], principalId: null };
const { action, formAction } = actionClient(async () => alice);
const input = z.object({ findingId: z.uuid("must be a finding id"), note: z.string().trim().optional() });
const ID = "2f6c1c55-7a3b-4d57-9d0e-7d4c0a7e1b11";

describe("server action contract (lib/action.ts)", () => {
  it("hands the parsed input and the session user to the lib call", async () => {
    const act = action(input, async (i, { actor }) => ({ id: i.findingId, note: i.note, by: actor.email }));
    expect(await act({ findingId: ID, note: "  kept  " })).toEqual({ ok: true, data: { id: ID, note: "kept", by: alice.email } });
  });

  it("refuses bad input as bad_request naming the field, without calling the lib", async () => {
    const fn = vi.fn(async () => "never");
    const r = await action(input, fn)({ findingId: "nope" });
    expect(r).toEqual({ ok: false, error: { code: "bad_request", message: "findingId: must be a finding id", field: "findingId" } });
    expect(fn).not.toHaveBeenCalled();
  });

  it("answers without a session as unauthenticated, before looking at the input", async () => {
    const anonymous = actionClient(async () => {
      throw new AppError("unauthenticated", "Sign in required");
    });
    const fn = vi.fn(async () => "never");
    expect(await anonymous.action(input, fn)({ findingId: "nope" })).toEqual({ ok: false, error: { code: "unauthenticated", message: "Sign in required" } });
    expect(fn).not.toHaveBeenCalled();
  });

  it("passes an AppError's code and message through", async () => {
    const r = await action(input, async () => {
      throw forbidden("Only a signed-in reviewer can decide a finding");
    })({ findingId: ID });
    expect(r).toEqual({ ok: false, error: { code: "forbidden", message: "Only a signed-in reviewer can decide a finding" } });
  });

  it("hides an unexpected error behind a generic message with a log id, and logs it under that id", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const r = await action(input, async () => {
      throw new Error("password=hunter2 in a stack");
    })({ findingId: ID });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe("internal");
    expect(r.error.message).not.toContain("hunter2");
    expect(r.error.logId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.error.message).toContain(r.error.logId);
    expect(String(log.mock.calls[0]?.[0])).toContain(r.error.logId);
    log.mockRestore();
  });

  it("re-throws Next's redirect() and notFound() so they still work inside an action", async () => {
    await expect(action(input, async () => redirect("/signin"))({ findingId: ID })).rejects.toMatchObject({ digest: expect.stringMatching(/^NEXT_REDIRECT/) });
    await expect(action(input, async () => notFound())({ findingId: ID })).rejects.toMatchObject({ digest: expect.stringMatching(/^NEXT_HTTP_ERROR_FALLBACK/) });
  });

  it("lets an action without input be called with no argument", async () => {
    const act = action(z.undefined(), async () => 42);
    expect(await act()).toEqual({ ok: true, data: 42 });
  });

  it("turns a useActionState form into the schema's input", async () => {
    const schema = z.object({ name: z.string().min(1, "give it a name"), scopes: z.array(z.string()).min(1, "pick at least one scope") });
    const act = formAction(schema, (form) => formFields(form, ["scopes"]), async (i) => i);
    const form = new FormData();
    form.append("name", "ci");
    form.append("scopes", "usage:ingest");
    form.append("$ACTION_KEY", "k0");
    expect(await act(null, form)).toEqual({ ok: true, data: { name: "ci", scopes: ["usage:ingest"] } });
    const empty = new FormData();
    empty.append("name", "ci");
    expect(await act(null, empty)).toEqual({ ok: false, error: { code: "bad_request", message: "scopes: pick at least one scope", field: "scopes" } });
  });
});
