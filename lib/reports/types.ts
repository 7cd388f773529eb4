import type { z } from "zod";
import type { PrismaClient } from "@/lib/db";
import type { ReportConnection } from "./cursor";

/** A report's URL name (registry.ts lists them). */
export type ReportName = string;

export const EXPORT_FORMATS = ["csv", "json", "pdf"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One output row: column key → a value already rendered as text (or null). */
export type ReportRow = Record<string, string | number | boolean | null>;

export interface FilterField {
  name: string;
  label: string;
  /** environment/team/campaign: a select of existing names (ids for campaigns). */
  kind: "day" | "environment" | "team" | "campaign" | "flag";
  required?: boolean;
  hint?: string;
}

/** Figures for the PDF summary: headline numbers and small breakdown tables. */
export interface ReportSummary {
  /** Label → value, e.g. ["Active grants", 1204]. */
  totals: [string, string | number][];
  /** Each a titled list of label → count (by team, by decision type, ...). */
  breakdowns: { title: string; rows: [string, number][] }[];
  /** The number of report rows the summary covers (recorded as the export's row count). */
  rowCount: number;
  /** What the report is about, appended to the PDF's title (e.g. the campaign's name). */
  subject?: string;
  /** A line chart of one series (e.g. completion over time), drawn as vector graphics. */
  chart?: SummaryChart;
  /** Item-level evidence listed row by row (e.g. every revoke and reduce with its enforcement proof). */
  table?: SummaryTable;
}

export interface SummaryChart {
  title: string;
  /** Label (a UTC day) → value, in order. */
  points: [string, number][];
  /** The y axis runs from 0 to this (e.g. 100 for a percentage). */
  max: number;
  unit: string;
}

export interface SummaryTable {
  title: string;
  /** `width` is a share of the line (the shares add up to 1); `mono` cells are ids, set in Courier. */
  columns: { key: string; header: string; width: number; mono?: boolean }[];
  rows: Record<string, string>[];
  /** Rows that exist beyond the ones listed (the PDF caps its length; the CSV has them all). */
  omitted: number;
}

/** A query with `$n` placeholders and their values. */
export interface SqlQuery {
  text: string;
  values: unknown[];
}

interface ReportBase<F> {
  name: ReportName;
  title: string;
  description: string;
  filters: z.ZodType<F>;
  /** The filter form on /reports: one input per filter, in this order. */
  fields: FilterField[];
  columns: { key: string; header: string }[];
  /** Checks that what the filters name exists (e.g. the campaign); throws AppError. */
  prepare?(client: PrismaClient, filters: F): Promise<void>;
  summary(client: PrismaClient, filters: F): Promise<ReportSummary>;
}

/**
 * A report: its filters (zod, parsed from URL search params), its columns, a
 * row source, and the figures for its PDF summary. The row source is either one
 * SQL query whose result columns are named by the columns' keys (CSV streams
 * through COPY, JSON through a cursor: never the whole result in memory) or, for
 * a computed report, bounded batches of rows. One file per report; the export
 * pipeline (export.ts) does formats, hashing and the export record for all.
 */
export type ReportDefinition<F = unknown> = ReportBase<F> &
  (
    | { query(filters: F): SqlQuery; batches?: never }
    | { batches(ctx: { conn: ReportConnection; client: PrismaClient }, filters: F): AsyncIterable<ReportRow[]>; query?: never }
  );
