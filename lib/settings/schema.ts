import { z } from "zod";

/**
 * Review-loop thresholds. Each key is one row in the Setting table; a missing
 * row means "use the default", so a fresh database needs no settings seed.
 */
export const settingsSchema = z.object({
  /** A grant unused for this many days is dormant. */
  dormancyDays: z.number().int().min(1).max(3650).default(90),
  /** Per-environment override of dormancyDays, keyed by Environment.id. */
  dormancyDaysByEnvironment: z.record(z.uuid(), z.number().int().min(1).max(3650)).default({}),
  /** Newly granted scopes get this many days on top of the window before they can be called unused. */
  graceDays: z.number().int().min(0).max(365).default(14),
  /** A proxy that has not reported usage for longer than this makes dormancy findings unreliable. */
  staleFeedDays: z.number().int().min(1).max(90).default(5),
  /** Credentials older than this (since creation or last rotation) should be rotated. */
  credentialRotationDays: z.number().int().min(1).max(3650).default(180),
  /** A proxy unreachable for longer than this is shown as degraded and admins are alerted. */
  proxyDegradedMinutes: z.number().int().min(1).max(1440).default(5),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingKey = keyof Settings;
export const SETTING_KEYS = Object.keys(settingsSchema.shape) as SettingKey[];

/** What an admin may send: any subset of the keys, each validated; unknown keys are refused. */
export const settingsUpdateSchema = z
  .object({
    dormancyDays: settingsSchema.shape.dormancyDays.unwrap(),
    dormancyDaysByEnvironment: settingsSchema.shape.dormancyDaysByEnvironment.unwrap(),
    graceDays: settingsSchema.shape.graceDays.unwrap(),
    staleFeedDays: settingsSchema.shape.staleFeedDays.unwrap(),
    credentialRotationDays: settingsSchema.shape.credentialRotationDays.unwrap(),
    proxyDegradedMinutes: settingsSchema.shape.proxyDegradedMinutes.unwrap(),
  })
  .partial()
  .strict();

export type SettingsUpdate = z.infer<typeof settingsUpdateSchema>;

export const DEFAULT_SETTINGS: Settings = settingsSchema.parse({});

/** The dormancy window in days for one environment. */
export function dormancyDaysFor(settings: Settings, environmentId: string): number {
  return settings.dormancyDaysByEnvironment[environmentId] ?? settings.dormancyDays;
}
