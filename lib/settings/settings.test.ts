import { expect, test } from "vitest";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "@/test/support/use-test-database";
import { makeReviewer } from "@/lib/analysis/fixtures";
import { DEFAULT_SETTINGS, getSettings, loadSettings, updateSettings } from "./index";

const ctx = useTestDatabase();

test("defaults without any row: 90 / 14 / 5 / 180", async () => {
  expect(await loadSettings(ctx.client)).toEqual({ dormancyDays: 90, dormancyDaysByEnvironment: {}, graceDays: 14, staleFeedDays: 5, credentialRotationDays: 180, proxyDegradedMinutes: 5 });
  expect(DEFAULT_SETTINGS.dormancyDays).toBe(90);
});

test("admins change thresholds with an audit event; bad values name the field; others are refused", async () => {
  const admin = await makeReviewer(ctx.client, ["admin"]);
  const reviewer = await makeReviewer(ctx.client, ["reviewer"]);
  const env = await ctx.client.environment.create({ data: { name: "staging", tier: "staging" } });
  const next = await updateSettings(admin.actor, { dormancyDays: 60, dormancyDaysByEnvironment: { [env.id]: 30 } }, ctx.client);
  expect(next).toMatchObject({ dormancyDays: 60, graceDays: 14, dormancyDaysByEnvironment: { [env.id]: 30 } });
  expect(await getSettings(reviewer.actor, ctx.client)).toEqual(next);
  const audit = await ctx.client.auditEvent.findFirstOrThrow({ where: { action: "settings.update" } });
  expect(audit.data).toMatchObject({ dormancyDays: { from: 90, to: 60 } });

  const err = await updateSettings(admin.actor, { graceDays: -1 }, ctx.client).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).field).toBe("graceDays");
  const unknownKey = await updateSettings(admin.actor, { windowDays: 3 }, ctx.client).catch((e: unknown) => e);
  expect((unknownKey as AppError).code).toBe("bad_request");
  const refused = await updateSettings(reviewer.actor, { dormancyDays: 10 }, ctx.client).catch((e: unknown) => e);
  expect((refused as AppError).code).toBe("forbidden");
  expect((await loadSettings(ctx.client)).dormancyDays).toBe(60);

  // A form that does not send a newer field (undefined) changes nothing there, and is not a database error.
  const partial = await updateSettings(admin.actor, { graceDays: 21, proxyDegradedMinutes: undefined }, ctx.client);
  expect(partial).toMatchObject({ graceDays: 21, proxyDegradedMinutes: 5, dormancyDays: 60 });
});
