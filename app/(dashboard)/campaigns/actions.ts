"use server";
import { revalidatePath } from "next/cache";
import { action, formAction, formFields } from "@/lib/action";
import { campaignIdInput, closeCampaign, createCampaign, createCampaignInput, launchCampaign, launchInput, LAUNCH_CONFIRM_ABOVE } from "@/lib/campaigns";

// Thin wrappers (lib/action.ts): session → zod → one lib call (authorization lives there).

/** The new-campaign form: a date picker sends a day, so the campaign is due at the end of it (UTC). */
function campaignFromForm(form: FormData) {
  const fields = formFields(form, ["apiIds", "environmentIds", "teamIds", "namedReviewerIds"]);
  const due = fields.dueAt;
  if (typeof due === "string" && /^\d{4}-\d{2}-\d{2}$/.test(due)) fields.dueAt = `${due}T23:59:59Z`;
  return fields;
}

export const createCampaignAction = formAction(createCampaignInput, campaignFromForm, async (input, { actor }) => {
  const created = await createCampaign(actor, input);
  revalidatePath("/campaigns");
  return { id: created.id, name: created.name };
});

export const launchCampaignAction = action(launchInput, async (input, { actor }) => {
  const r = await launchCampaign(actor, input, undefined, undefined, { confirmAbove: LAUNCH_CONFIRM_ABOVE });
  revalidatePath("/campaigns");
  revalidatePath(`/campaigns/${input.campaignId}`);
  return { itemCount: r.itemCount, sha256: r.sha256 };
});

export const closeCampaignAction = action(campaignIdInput, async (input, { actor }) => {
  const r = await closeCampaign(actor, input);
  revalidatePath("/campaigns");
  revalidatePath(`/campaigns/${input.campaignId}`);
  return { applied: r.applied };
});
