"use server";
import { revalidatePath } from "next/cache";
import { formAction, formFields } from "@/lib/action";
import { objectionInput, objectToItem } from "@/lib/remediation";

/** An owner's or manager's objection to a remediation notice (lib/remediation checks who may). */
export const objectAction = formAction(objectionInput, (form) => formFields(form), async (input, { actor }): Promise<string> => {
  const r = await objectToItem(actor, input);
  revalidatePath("/remediation");
  return r.findingId ? "Objection recorded: the policy will not act on it, and a reviewer decides it in the queue." : "Objection recorded: the policy will not act on it.";
});
