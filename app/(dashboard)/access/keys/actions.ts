"use server";
import { revalidatePath } from "next/cache";
import { formAction, formFields } from "@/lib/action";
import { issueKey, revokeAllKeys, revokeAllKeysInput, revokeKey, revokeKeyInput, rotateKey } from "@/lib/access/credentials";
import { issueKeyForm, rotateKeyForm } from "@/lib/access/forms";
import { createServiceAccount, createServiceAccountInput } from "@/lib/access/service-accounts";

// Thin wrappers (lib/action.ts): session → zod → one lib call, which authorizes.
// A new key goes back in this one response only (shown once); it is never logged.
const done = <T>(v: T) => (revalidatePath("/access/keys"), v);

export const createServiceAccountAction = formAction(createServiceAccountInput, (f) => formFields(f), async (input, { actor }) => {
  await createServiceAccount(actor, input);
  return done(`Service account “${input.name}” created`);
});
export const issueKeyAction = formAction(issueKeyForm, (f) => formFields(f), async (input, { actor }) => {
  const k = await issueKey(actor, input);
  return done({ key: k.key, prefix: k.prefix, enforcement: k.enforcement });
});
export const rotateKeyAction = formAction(rotateKeyForm, (f) => formFields(f), async (input, { actor }) => {
  const k = await rotateKey(actor, input);
  return done({ key: k.key, prefix: k.prefix, enforcement: k.enforcement, overlapEndsAt: k.overlapEndsAt.toISOString() });
});
export const revokeKeyAction = formAction(revokeKeyInput, (f) => formFields(f), async (input, { actor }) => {
  const r = await revokeKey(actor, input);
  return done(`Key revoked (${r.enforcement === "pending" ? "sending to the proxies" : r.enforcement})`);
});
export const revokeAllKeysAction = formAction(revokeAllKeysInput, (f) => formFields(f), async (input, { actor }) => {
  const r = await revokeAllKeys(actor, input);
  return done(`${r.credentialIds.length} key(s) revoked (${r.enforcement === "pending" ? "sending to the proxies" : r.enforcement})`);
});
