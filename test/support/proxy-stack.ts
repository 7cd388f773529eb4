import type http from "node:http";
import type { PrismaClient } from "@/lib/db";
import type { DeliveryWorker } from "@/lib/enforcement/worker";
import type { ProxyProcess } from "@/proxy/test-support";
import type { TestDatabase } from "./db";

// Tears down what an end-to-end test around a real proxy started (delivery worker, proxy, upstream, database),
// in that order; shared because those tests each wrote the same afterAll.
export async function stopProxyStack(s: { worker?: DeliveryWorker; proxy?: ProxyProcess; upstream?: http.Server; client?: PrismaClient; tdb?: TestDatabase }) {
  await s.worker?.stop();
  await s.proxy?.stop();
  await new Promise((r) => s.upstream?.close(r));
  await s.client?.$disconnect();
  await s.tdb?.drop();
}
