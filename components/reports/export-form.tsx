import type { FilterField } from "@/lib/reports/types";
import type { ReportFormOptions } from "@/lib/reports/records";

/**
 * The filters of one report and its three download buttons. A plain GET form
 * aimed at the export route: the button's name=format picks the format, the
 * response is an attachment, so the browser downloads it and stays on the page
 * (no script needed, and it works from the keyboard).
 */
export function ExportForm({ report, fields, options }: { report: string; fields: FilterField[]; options: ReportFormOptions }) {
  const needsCampaign = fields.some((f) => f.kind === "campaign");
  if (needsCampaign && options.campaigns.length === 0) {
    return <p className="rounded border border-dashed border-slate-300 bg-white p-4 text-slate-600">No campaign has been launched yet, so there is no campaign report to export.</p>;
  }
  return (
    <form method="get" action={`/api/v1/reports/${report}`} className="flex flex-wrap items-end gap-3 rounded border border-slate-200 bg-white p-3" aria-label="Export">
      {fields.map((f) => (
        <label key={f.name} className="flex flex-col gap-1">
          <span className="text-xs font-medium text-slate-600">{f.label}</span>
          <FieldInput field={f} options={options} />
          {f.hint ? <span className="text-xs text-slate-500">{f.hint}</span> : null}
        </label>
      ))}
      {fields.length === 0 ? <span className="text-slate-600">This report has no filters.</span> : null}
      <div className="flex gap-2" role="group" aria-label="Download format">
        {(["csv", "json", "pdf"] as const).map((format) => (
          <button key={format} type="submit" name="format" value={format} className="rounded bg-slate-900 px-3 py-1.5 text-white hover:bg-slate-800">
            Download {format.toUpperCase()}
          </button>
        ))}
      </div>
    </form>
  );
}

const inputClass = "rounded border border-slate-300 px-2 py-1";

function FieldInput({ field, options }: { field: FilterField; options: ReportFormOptions }) {
  switch (field.kind) {
    case "day":
      return <input type="date" name={field.name} required={field.required} className={inputClass} />;
    case "flag":
      return (
        <select name={field.name} defaultValue="" className={inputClass}>
          <option value="">No</option>
          <option value="true">Yes</option>
        </select>
      );
    case "campaign":
      return (
        <select name={field.name} required className={inputClass}>
          {options.campaigns.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      );
    case "environment":
    case "team": {
      const names = field.kind === "environment" ? options.environments : options.teams;
      return (
        <select name={field.name} defaultValue="" className={inputClass}>
          <option value="">All</option>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      );
    }
  }
}
