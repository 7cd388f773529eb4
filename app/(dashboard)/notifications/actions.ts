"use server";
import { currentActor } from "@/lib/auth/session";
import { action } from "@/lib/auth/http";
import { listNotifications, markNotificationsRead } from "@/lib/notifications";

const list = action(async () => listNotifications(await currentActor()));
const markRead = action(async (input: unknown) => markNotificationsRead(await currentActor(), input));

export async function listNotificationsAction() {
  return list();
}
export async function markReadAction(input: unknown) {
  return markRead(input);
}
