"use server";
import { revalidatePath } from "next/cache";
import { formAction } from "@/lib/action";
import { settingsUpdateSchema, updateSettings } from "@/lib/settings";
import { environmentMaxInput, setEnvironmentMaxAccess } from "@/lib/access/requests";
import { twoPersonRuleSchema, updateTwoPersonRule } from "@/lib/auth/sod";

const THRESHOLDS = ["dormancyDays", "graceDays", "staleFeedDays", "credentialRotationDays", "proxyDegradedMinutes"] as const;

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

/** One environment's maximum for access requests; an empty field goes back to the default (90 days). */
export const saveAccessMaxAction = formAction(
  environmentMaxInput,
  (form) => ({ environmentId: form.get("environmentId"), maxAccessHours: form.get("maxAccessHours") === "" ? null : form.get("maxAccessHours") }),
  async (input, { actor }) => {
    await setEnvironmentMaxAccess(actor, input);
    revalidatePath("/settings");
    return input.maxAccessHours === null ? "Saved: the default maximum (90 days) applies." : `Saved: requests here are limited to ${input.maxAccessHours} hours.`;
  },
);

/** The two-person rule form: a checkbox, one checkbox per scope level, environments as a comma-separated list. */
function twoPersonRuleFromForm(form: FormData) {
  return {
    enabled: form.get("enabled") === "on",
    levels: form.getAll("levels").map(String),
    environments: String(form.get("environments") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

export const saveTwoPersonRuleAction = formAction(twoPersonRuleSchema, twoPersonRuleFromForm, async (input, { actor }) => {
  const rule = await updateTwoPersonRule(actor, input);
  revalidatePath("/settings");
  return rule.enabled
    ? `Saved. ${rule.levels.join(", ") || "No"} decisions in ${rule.environments.join(", ") || "no environment"} now need a second reviewer.`
    : "Saved. The two-person rule is off: every decision applies at once.";
});
