"use client";
import { Area, AreaChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { CHART_MARGIN, ChartFigure } from "./chart-figure";

/** Requests per day (recharts area chart); days are YYYY-MM-DD strings, zero-filled by the server. */
export function DailyUsageChart({ data, label, height = 200 }: { data: { day: string; requests: number }[]; label: string; height?: number }) {
  const total = data.reduce((n, d) => n + d.requests, 0);
  return (
    <ChartFigure label={label} testId="usage-chart" height={height} caption={`${label}: ${total.toLocaleString("en-US")} requests over ${data.length} days`}>
      <AreaChart data={data} margin={CHART_MARGIN}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e2e8f0" />
        <XAxis dataKey="day" tick={{ fontSize: 11 }} minTickGap={40} tickFormatter={(d: string) => d.slice(5)} />
        <YAxis tick={{ fontSize: 11 }} allowDecimals={false} width={56} />
        <Tooltip />
        <Area type="monotone" dataKey="requests" stroke="#0f766e" fill="#99f6e4" isAnimationActive={false} />
      </AreaChart>
    </ChartFigure>
  );
}
