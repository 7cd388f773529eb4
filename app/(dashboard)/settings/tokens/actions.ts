"use server";
import { revalidatePath } from "next/cache";
import { currentActor } from "@/lib/auth/session";
import { action, type ActionResult } from "@/lib/auth/http";
import { createTokenFromForm } from "@/lib/auth/token-admin";
import { revokeServiceToken } from "@/lib/auth/service-tokens";

export type CreateTokenState = ActionResult<{ name: string; prefix: string; token: string }> | null;

const create = action(async (form: FormData) => {
  const created = await createTokenFromForm(await currentActor(), {
    name: form.get("name"),
    scopes: form.getAll("scopes").map(String),
  });
  revalidatePath("/settings/tokens");
  // The plaintext goes back to this one response only; it is never stored or logged.
  return { name: created.name, prefix: created.prefix, token: created.token };
});

export async function createTokenAction(_prev: CreateTokenState, form: FormData): Promise<CreateTokenState> {
  return create(form);
}

const revoke = action(async (form: FormData) => {
  await revokeServiceToken(await currentActor(), String(form.get("tokenId") ?? ""));
  revalidatePath("/settings/tokens");
  return null;
});

export async function revokeTokenAction(_prev: ActionResult<null> | null, form: FormData): Promise<ActionResult<null> | null> {
  return revoke(form);
}
