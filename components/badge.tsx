/** Small status pill. Tones map meaning to colour once, so every table speaks the same language. */
const TONES = {
  neutral: "bg-slate-100 text-slate-700 ring-slate-200",
  good: "bg-emerald-50 text-emerald-800 ring-emerald-200",
  warn: "bg-amber-50 text-amber-800 ring-amber-200",
  bad: "bg-red-50 text-red-800 ring-red-200",
  info: "bg-sky-50 text-sky-800 ring-sky-200",
} as const;
export type BadgeTone = keyof typeof TONES;

export function Badge({ tone = "neutral", children, title }: { tone?: BadgeTone; children: React.ReactNode; title?: string }) {
  return (
    <span title={title} className={`inline-flex items-center rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${TONES[tone]}`}>
      {children}
    </span>
  );
}

export const statusTone = (status: string): BadgeTone =>
  status === "active" ? "good" : status === "suspended" || status === "expired" ? "warn" : status === "deprovisioned" || status === "revoked" ? "bad" : "neutral";

export const levelTone = (level: string): BadgeTone => (level === "admin" ? "bad" : level === "write" ? "warn" : "info");
