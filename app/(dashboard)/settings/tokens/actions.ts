"use server";
import { revalidatePath } from "next/cache";
import { formAction, formFields } from "@/lib/action";
import { createTokenForm, createTokenFromForm, revokeTokenForm } from "@/lib/auth/token-admin";
import { revokeServiceToken } from "@/lib/auth/service-tokens";

// Thin wrappers (lib/action.ts) for the two useActionState forms on /settings/tokens.
export const createTokenAction = formAction(createTokenForm, (form) => formFields(form, ["scopes"]), async (input, { actor }) => {
  const created = await createTokenFromForm(actor, input);
  revalidatePath("/settings/tokens");
  // The plaintext goes back to this one response only; it is never stored or logged.
  return { name: created.name, prefix: created.prefix, token: created.token };
});

export const revokeTokenAction = formAction(revokeTokenForm, (form) => formFields(form), async ({ tokenId }, { actor }) => {
  await revokeServiceToken(actor, tokenId);
  revalidatePath("/settings/tokens");
  return null;
});
