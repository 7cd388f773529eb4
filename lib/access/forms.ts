import { z } from "zod";
import { formFields } from "@/lib/action";

// Form shapes of the key pages: what a person types (hours from now), turned
// into the use cases' own input. The use cases validate again.
export const rotateKeyForm = z
  .object({
    credentialId: z.uuid("must be a credential id"),
    overlapHours: z.coerce.number().positive("must be more than 0").max(720, "at most 720 hours (30 days)").default(24),
  })
  .transform((f) => ({ credentialId: f.credentialId, overlapEndsAt: new Date(Date.now() + f.overlapHours * 3_600_000) }));

export const issueKeyForm = z
  .object({
    principalId: z.uuid("must be a principal id"),
    expiresInDays: z.coerce.number().int("must be whole days").positive("must be more than 0").max(366, "at most 366 days").optional(),
  })
  .transform((f) => ({ principalId: f.principalId, expiresAt: f.expiresInDays ? new Date(Date.now() + f.expiresInDays * 86_400_000) : undefined }));

/**
 * The request form's fields. Its end date comes from a datetime-local input labelled
 * UTC, which has no zone of its own: read it as UTC, not as the server's local time.
 */
export function requestAccessFormFields(form: FormData): Record<string, string | string[]> {
  const f = formFields(form, ["scopeIds"]);
  if (typeof f.until === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(f.until)) f.until += "Z";
  return f;
}
