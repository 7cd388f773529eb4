"use client";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { StackedBarChart } from "@/components/charts/stacked-bar-chart";

const DECISION_SERIES = [
  { key: "keep", color: "#059669" },
  { key: "revoke", color: "#dc2626" },
  { key: "reduce", color: "#d97706" },
  { key: "pending", color: "#94a3b8" },
] as const;

/** Completion over time: decided items per day, against the snapshot's total. */
export function CompletionChart({ data }: { data: { day: string; decided: number; total: number }[] }) {
  const label = `Completion over time: ${data.at(-1)?.decided ?? 0} of ${data.at(-1)?.total ?? 0} decided`;
  return (
    <figure aria-label={label} data-testid="completion-chart">
      <div style={{ width: "100%", height: 240 }}>
        <ResponsiveContainer>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e2e8f0" />
            <XAxis dataKey="day" tick={{ fontSize: 12 }} />
            <YAxis tick={{ fontSize: 12 }} allowDecimals={false} width={56} />
            <Tooltip />
            <Line type="stepAfter" dataKey="total" stroke="#94a3b8" dot={false} isAnimationActive={false} name="items" />
            <Line type="monotone" dataKey="decided" stroke="#2563eb" strokeWidth={2} isAnimationActive={false} name="decided" />
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="sr-only">{label}</figcaption>
    </figure>
  );
}

export function DecisionsByChart({ data, categoryKey, label }: { data: Record<string, string | number>[]; categoryKey: string; label: string }) {
  return <StackedBarChart data={data} categoryKey={categoryKey} series={DECISION_SERIES} label={label} height={240} />;
}
