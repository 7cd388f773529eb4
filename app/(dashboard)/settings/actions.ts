"use server";
import { revalidatePath } from "next/cache";
import { formAction } from "@/lib/action";
import { settingsUpdateSchema, updateSettings } from "@/lib/settings";

const THRESHOLDS = ["dormancyDays", "graceDays", "staleFeedDays", "credentialRotationDays"] as const;

/** The thresholds form: number fields, plus one optional `env:<id>` field per environment (empty = the default). */
function thresholdsFromForm(form: FormData) {
  const num = (v: FormDataEntryValue | null) => (typeof v === "string" && v.trim() !== "" ? Number(v) : undefined);
  const dormancyDaysByEnvironment: Record<string, number | undefined> = {};
  for (const [k, v] of form.entries()) if (k.startsWith("env:") && num(v) !== undefined) dormancyDaysByEnvironment[k.slice(4)] = num(v);
  return { ...Object.fromEntries(THRESHOLDS.map((k) => [k, num(form.get(k))])), dormancyDaysByEnvironment };
}

export const saveThresholdsAction = formAction(settingsUpdateSchema, thresholdsFromForm, async (input, { actor }) => {
  await updateSettings(actor, input);
  revalidatePath("/settings");
  return "Saved. The next analysis run uses the new thresholds.";
});
