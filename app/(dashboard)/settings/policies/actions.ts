"use server";
import { revalidatePath } from "next/cache";
import { formAction, formFields } from "@/lib/action";
import { createPolicy, disablePolicy, enablePolicy, itemIdInput, policyIdInput, policyInput, rollbackItem } from "@/lib/remediation";

// Thin wrappers (lib/action.ts) for the forms on /settings/policies; lib/remediation authorizes.
export const createPolicyAction = formAction(policyInput, (form) => formFields(form), async (input, { actor }) => {
  const p = await createPolicy(actor, input);
  revalidatePath("/settings/policies");
  return `Draft "${p.name}" created: preview it below, then enable it.`;
});

export const enablePolicyAction = formAction(policyIdInput, (form) => formFields(form), async (input, { actor }) => {
  const r = await enablePolicy(actor, input);
  revalidatePath("/settings/policies");
  return `Enabled. ${r.noticed} item${r.noticed === 1 ? "" : "s"} noticed; owners and managers were notified.`;
});

export const disablePolicyAction = formAction(policyIdInput, (form) => formFields(form), async (input, { actor }) => {
  await disablePolicy(actor, input);
  revalidatePath("/settings/policies");
  return "Disabled: nothing more is noticed or executed.";
});

export const rollbackItemAction = formAction(itemIdInput, (form) => formFields(form), async (input, { actor }) => {
  const r = await rollbackItem(actor, input);
  revalidatePath("/settings/policies");
  return `Restored (${r.restored}); the proxies receive it now.`;
});
