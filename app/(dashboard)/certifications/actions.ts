"use server";
import { revalidatePath } from "next/cache";
import { action } from "@/lib/action";
import {
  bulkCertify,
  bulkCertifyInput,
  certifyInput,
  certifyItem,
  confirmItemDecision,
  confirmItemInput,
  delegateInput,
  delegateItems,
  rejectItemInput,
  rejectItemProposal,
  signOffCampaign,
  signOffInput,
} from "@/lib/campaigns";

// Thin wrappers (lib/action.ts): session → zod → one lib call (authorization and SoD live there).
function done<T>(r: T): T {
  revalidatePath("/certifications");
  return r;
}

export const certifyAction = action(certifyInput, async (input, { actor }) => done(await certifyItem(actor, input)));
export const bulkCertifyAction = action(bulkCertifyInput, async (input, { actor }) => done(await bulkCertify(actor, input)));
export const delegateAction = action(delegateInput, async (input, { actor }) => done(await delegateItems(actor, input)));
export const signOffAction = action(signOffInput, async (input, { actor }) => done(await signOffCampaign(actor, input)));
/** Two-person rule: a second person confirms or rejects a proposed decision. */
export const confirmProposalAction = action(confirmItemInput, async (input, { actor }) => done(await confirmItemDecision(actor, input)));
export const rejectProposalAction = action(rejectItemInput, async (input, { actor }) => done(await rejectItemProposal(actor, input)));
