"use client";
import { useEffect, useState } from "react";
import { readJson, type Json } from "@/components/read-json";
import type { ActionResult } from "@/lib/action";
import type { FindingDetail } from "@/lib/review";

export type FindingDetailView = Json<FindingDetail>;

/**
 * The panel's evidence from GET /api/ui/findings/<id>, fetched again when
 * `version` changes (after a decision, or when the queue sees the decision's state change); the last answer stays shown meanwhile.
 */
export function useFindingDetail(findingId: string, version: string): ActionResult<FindingDetailView> | null {
  const [loaded, setLoaded] = useState<ActionResult<FindingDetailView> | null>(null);
  useEffect(() => {
    let live = true;
    void readJson<FindingDetail>(`/api/ui/findings/${encodeURIComponent(findingId)}`).then((r) => {
      if (live) setLoaded(r);
    });
    return () => {
      live = false;
    };
  }, [findingId, version]);
  return loaded;
}
