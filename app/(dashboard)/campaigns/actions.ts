"use server";
import { revalidatePath } from "next/cache";
import { currentActor } from "@/lib/auth/session";
import { action, type ActionResult } from "@/lib/auth/http";
import { closeCampaign, createCampaign, launchCampaign } from "@/lib/campaigns";

// Thin wrappers: session → one lib call (zod validation and authorization live there).
export type CreateCampaignState = ActionResult<{ id: string; name: string }> | null;

const list = (form: FormData, key: string) => form.getAll(key).map(String).filter(Boolean);
const text = (form: FormData, key: string) => {
  const v = form.get(key);
  return typeof v === "string" && v !== "" ? v : undefined;
};

const create = action(async (form: FormData) => {
  const due = text(form, "dueAt");
  const created = await createCampaign(await currentActor(), {
    name: text(form, "name") ?? "",
    period: text(form, "period") ?? "",
    apiIds: list(form, "apiIds"),
    environmentIds: list(form, "environmentIds"),
    teamIds: list(form, "teamIds"),
    // A date picker sends a day: due at the end of it (UTC).
    dueAt: due && /^\d{4}-\d{2}-\d{2}$/.test(due) ? `${due}T23:59:59Z` : due,
    reviewerRule: text(form, "reviewerRule"),
    namedReviewerIds: list(form, "namedReviewerIds"),
    closePolicy: text(form, "closePolicy"),
    fallbackReviewerId: text(form, "fallbackReviewerId") ?? null,
    fallbackDays: text(form, "fallbackDays"),
    recurrence: text(form, "recurrence"),
  });
  revalidatePath("/campaigns");
  return { id: created.id, name: created.name };
});

export async function createCampaignAction(_prev: CreateCampaignState, form: FormData): Promise<CreateCampaignState> {
  return create(form);
}

const launch = action(async (campaignId: string) => {
  const r = await launchCampaign(await currentActor(), { campaignId });
  revalidatePath("/campaigns");
  revalidatePath(`/campaigns/${campaignId}`);
  return { itemCount: r.itemCount, sha256: r.sha256 };
});

const close = action(async (campaignId: string) => {
  const r = await closeCampaign(await currentActor(), { campaignId });
  revalidatePath("/campaigns");
  revalidatePath(`/campaigns/${campaignId}`);
  return { applied: r.applied };
});

export async function launchCampaignAction(campaignId: string) {
  return launch(campaignId);
}
export async function closeCampaignAction(campaignId: string) {
  return close(campaignId);
}
