"use client";
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { CHART_MARGIN, ChartFigure } from "./chart-figure";

export interface StackedBarChartProps {
  data: Record<string, string | number>[];
  /** The category field on the x axis. */
  categoryKey: string;
  /** Stacked series, bottom first, with their colours. */
  series: readonly { key: string; color: string }[];
  height?: number;
  label: string;
}

/** A stacked bar chart (recharts) with a text alternative for screen readers. */
export function StackedBarChart({ data, categoryKey, series, height = 280, label }: StackedBarChartProps) {
  return (
    <ChartFigure label={label} testId="stacked-bar-chart" height={height} caption={label}>
      <BarChart data={data} margin={CHART_MARGIN}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e2e8f0" />
        <XAxis dataKey={categoryKey} tick={{ fontSize: 12 }} />
        <YAxis tick={{ fontSize: 12 }} allowDecimals={false} width={56} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} />
        <Legend wrapperStyle={{ fontSize: 12 }} itemSorter={null} />
        {series.map((s) => (
          <Bar key={s.key} dataKey={s.key} stackId="stack" fill={s.color} isAnimationActive={false} />
        ))}
      </BarChart>
    </ChartFigure>
  );
}
