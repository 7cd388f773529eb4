"use server";
import { revalidatePath } from "next/cache";
import { formAction, formFields } from "@/lib/action";
import { createProxy, createProxyInput, deleteProxy, deleteProxyInput } from "@/lib/enforcement/proxies";

// Thin wrappers (lib/action.ts) for the forms on /settings/proxies.
export const addProxyAction = formAction(createProxyInput, (form) => formFields(form), async (input, { actor }) => {
  await createProxy(actor, input);
  revalidatePath("/settings/proxies");
  return `Proxy ${input.name} added`;
});

export const removeProxyAction = formAction(deleteProxyInput, (form) => formFields(form), async (input, { actor }) => {
  await deleteProxy(actor, input);
  revalidatePath("/settings/proxies");
  return "Proxy removed";
});
