"use server";
import { revalidatePath } from "next/cache";
import { formAction, formFields } from "@/lib/action";
import { createWebhook, createWebhookInput, deleteWebhook, retryWebhookDelivery, setWebhookEnabled, setWebhookEnabledInput, webhookIdInput } from "@/lib/webhooks/admin";
import { z } from "zod";

// Thin wrappers (lib/action.ts) for the forms on /settings/webhooks.
export const createWebhookAction = formAction(createWebhookInput, (form) => formFields(form, ["events"]), async (input, { actor }) => {
  const created = await createWebhook(actor, input);
  revalidatePath("/settings/webhooks");
  // The signing secret goes back to this one response only.
  return { name: created.name, secret: created.secret };
});

export const setWebhookEnabledAction = formAction(setWebhookEnabledInput, (form) => formFields(form), async (input, { actor }): Promise<string> => {
  await setWebhookEnabled(actor, { id: input.id, enabled: String(input.enabled) });
  revalidatePath("/settings/webhooks");
  return input.enabled ? "Webhook enabled" : "Webhook disabled";
});

export const deleteWebhookAction = formAction(webhookIdInput, (form) => formFields(form), async (input, { actor }) => {
  await deleteWebhook(actor, input);
  revalidatePath("/settings/webhooks");
  return "Webhook removed";
});

export const retryWebhookDeliveryAction = formAction(z.object({ id: z.string() }), (form) => formFields(form), async (input, { actor }) => {
  await retryWebhookDelivery(actor, input);
  revalidatePath("/settings/webhooks");
  return "Delivery queued again";
});
