"use server";
import { revalidatePath } from "next/cache";
import { action, formAction, formFields } from "@/lib/action";
import { createProxy, createProxyInput, deleteProxy, deleteProxyInput, testProxyConnection, testProxyInput, updateProxy, updateProxyInput } from "@/lib/enforcement/proxies";

// Thin wrappers (lib/action.ts) for the forms on /settings/proxies.
export const addProxyAction = formAction(createProxyInput, (form) => formFields(form), async (input, { actor }) => {
  await createProxy(actor, input);
  revalidatePath("/settings/proxies");
  return `Proxy ${input.name} added`;
});

export const removeProxyAction = formAction(deleteProxyInput, (form) => formFields(form), async (input, { actor }) => {
  const r = await deleteProxy(actor, input);
  revalidatePath("/settings/proxies");
  return `Proxy deregistered: ${r.droppedPendingDeliveries} undelivered decisions dropped, ${r.decisionsNowEnforced} now enforced by the other proxies`;
});

export const editProxyAction = formAction(updateProxyInput, (form) => formFields(form), async (input, { actor }) => {
  await updateProxy(actor, input);
  revalidatePath("/settings/proxies");
  return `Proxy ${input.name} saved`;
});

export const testProxyAction = action(testProxyInput, async (input, { actor }) => testProxyConnection(actor, input));
