"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { formAction, formFields } from "@/lib/action";
import { requestAccessFormFields } from "@/lib/access/forms";
import { approveAccessRequest, decideRequestInput, denyAccessRequest, denyRequestInput, requestAccess } from "@/lib/access/requests";

// Thin wrappers (lib/action.ts) for the request form and the approvals inbox.
// The form's schema only shapes FormData; lib/access/requests.ts validates.
const requestForm = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

export const requestAccessAction = formAction(requestForm, requestAccessFormFields, async (input, { actor }): Promise<string> => {
  const r = await requestAccess(actor, input);
  revalidatePath("/access/requests");
  return r.approvalsNeeded > 1 ? "Requested: two approvers from the API's team must approve it" : "Requested: the API's team has been notified";
});

export const approveRequestAction = formAction(decideRequestInput, (f) => formFields(f), async (input, { actor }): Promise<string> => {
  const r = await approveAccessRequest(actor, input);
  revalidatePath("/access/approvals");
  return r.status === "approved" ? "Approved: the grant is being sent to the proxies" : `Approval recorded (${r.approvals} of ${r.approvalsNeeded})`;
});

export const denyRequestAction = formAction(denyRequestInput, (f) => formFields(f), async (input, { actor }): Promise<string> => {
  await denyAccessRequest(actor, input);
  revalidatePath("/access/approvals");
  return "Denied; the requester has been told why";
});
