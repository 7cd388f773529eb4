"use server";
import { revalidatePath } from "next/cache";
import { formAction } from "@/lib/action";
import { autoRollbackInput, setImportAutoRollback } from "@/lib/access-import/sources";

/** Per import source: roll back access a later import shows was granted outside review (issue 22). */
export const autoRollbackAction = formAction(
  autoRollbackInput,
  (form) => ({ source: form.get("source"), enabled: form.get("enabled") === "on" }),
  async (input, { actor }) => {
    const r = await setImportAutoRollback(actor, input);
    revalidatePath("/imports");
    return r.autoRollback
      ? `Automatic rollback is on for ${r.source}: access a later import shows was granted outside review is revoked right after it, signed by you.`
      : `Automatic rollback is off for ${r.source}: such access opens findings for a reviewer.`;
  },
);
