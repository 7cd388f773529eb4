"use client";
import { Area, AreaChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

/** A stacked area chart over days (recharts) with a text alternative for screen readers. */
export function StackedAreaChart({
  data,
  xKey,
  series,
  height = 220,
  label,
}: {
  data: Record<string, string | number>[];
  xKey: string;
  /** Bottom first. */
  series: readonly { key: string; color: string }[];
  height?: number;
  label: string;
}) {
  return (
    <figure aria-label={label} data-testid="stacked-area-chart">
      <div style={{ width: "100%", height }}>
        <ResponsiveContainer>
          <AreaChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e2e8f0" />
            <XAxis dataKey={xKey} tick={{ fontSize: 11 }} minTickGap={40} />
            <YAxis tick={{ fontSize: 11 }} allowDecimals={false} width={48} />
            <Tooltip />
            <Legend wrapperStyle={{ fontSize: 12 }} itemSorter={null} />
            {series.map((s) => (
              <Area key={s.key} dataKey={s.key} stackId="stack" type="monotone" stroke={s.color} fill={s.color} fillOpacity={0.5} isAnimationActive={false} />
            ))}
          </AreaChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="sr-only">{label}</figcaption>
    </figure>
  );
}
