import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { fromZod } from "@/lib/errors";
import { DEFAULT_SETTINGS, SETTING_KEYS, settingsSchema, settingsUpdateSchema, type Settings } from "./schema";

export * from "./schema";

/**
 * Reads all thresholds, falling back to the default for any key without a row.
 * A stored value that no longer validates (e.g. written by an older version)
 * falls back to the default instead of breaking the analysis.
 */
export async function loadSettings(client: PrismaClient | Tx = db()): Promise<Settings> {
  const rows = await client.setting.findMany({ where: { key: { in: SETTING_KEYS } } });
  const raw: Record<string, unknown> = {};
  for (const row of rows) raw[row.key] = row.value;
  const result: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const key of SETTING_KEYS) {
    if (!(key in raw)) continue;
    const one = settingsSchema.shape[key].safeParse(raw[key]);
    if (one.success) result[key] = one.data;
  }
  return result as Settings;
}

export async function getSettings(actor: Actor, client: PrismaClient = db()): Promise<Settings> {
  authorize(actor, "inventory:read");
  return loadSettings(client);
}

/** Admins change thresholds; each change is validated and audited in the same transaction. */
export async function updateSettings(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<Settings> {
  authorize(actor, "settings:write");
  const parsed = settingsUpdateSchema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  // A field left out (undefined) is no change: a form without a newer field must not write a null.
  const changes = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  const by = actor.kind === "user" ? actor.email : actor.name;
  return client.$transaction(async (tx) => {
    const before = await loadSettings(tx);
    for (const [key, value] of Object.entries(changes)) {
      await tx.setting.upsert({
        where: { key },
        create: { key, value: value as object, updatedBy: by },
        update: { value: value as object, updatedBy: by },
      });
    }
    const after = await loadSettings(tx);
    const diff = Object.fromEntries(
      Object.keys(changes).map((k) => [k, { from: before[k as keyof Settings], to: after[k as keyof Settings] }]),
    );
    await appendAuditEvent(tx, { actor, action: "settings.update", target: "settings", data: diff });
    return after;
  });
}
