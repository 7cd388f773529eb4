"use server";
import { action } from "@/lib/action";
import { markNotificationsRead, markReadInput } from "@/lib/notifications";

// The bell's list is a read: GET /api/ui/notifications. Marking read is the one mutation.
export const markReadAction = action(markReadInput, (input, { actor }) => markNotificationsRead(actor, input));
