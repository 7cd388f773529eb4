"use client";
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

/** Requests per day (recharts area chart); days are YYYY-MM-DD strings, zero-filled by the server. */
export function DailyUsageChart({ data, label, height = 200 }: { data: { day: string; requests: number }[]; label: string; height?: number }) {
  const total = data.reduce((n, d) => n + d.requests, 0);
  return (
    <figure aria-label={label} data-testid="usage-chart">
      <div style={{ width: "100%", height }}>
        <ResponsiveContainer>
          <AreaChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e2e8f0" />
            <XAxis dataKey="day" tick={{ fontSize: 11 }} minTickGap={40} tickFormatter={(d: string) => d.slice(5)} />
            <YAxis tick={{ fontSize: 11 }} allowDecimals={false} width={56} />
            <Tooltip />
            <Area type="monotone" dataKey="requests" stroke="#0f766e" fill="#99f6e4" isAnimationActive={false} />
          </AreaChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="sr-only">
        {label}: {total.toLocaleString("en-US")} requests over {data.length} days
      </figcaption>
    </figure>
  );
}
