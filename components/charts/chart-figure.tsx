"use client";
import type { ReactElement, ReactNode } from "react";
import { ResponsiveContainer } from "recharts";

/**
 * The frame every chart shares: a figure labelled for assistive technology, a
 * full-width box of `height` the chart fills, and a caption only screen readers read.
 */
export function ChartFigure({ label, testId, height, caption, children }: { label: string; testId: string; height: number; caption: ReactNode; children: ReactElement }) {
  return (
    <figure aria-label={label} data-testid={testId}>
      <div style={{ width: "100%", height }}>
        <ResponsiveContainer>{children}</ResponsiveContainer>
      </div>
      <figcaption className="sr-only">{caption}</figcaption>
    </figure>
  );
}

/** The margins both charts use (room for the axis labels). */
export const CHART_MARGIN = { top: 8, right: 16, bottom: 0, left: 0 };
