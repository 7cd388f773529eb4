import { expect } from "vitest";
import { AppError } from "@/lib/errors";

/** Awaits a call that must fail with an AppError (what users see as a 4xx) and returns it for further checks. */
export async function appError(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(() => null, (e: unknown) => e);
  expect(e, "expected an AppError").toBeInstanceOf(AppError);
  return e as AppError;
}

/** The call fails with an AppError of this code, naming `field` when given. */
export async function expectError(p: Promise<unknown>, code: string, field?: string): Promise<void> {
  const e = await appError(p);
  expect(e.code).toBe(code);
  if (field) expect(e.field).toBe(field);
}
