"use client";
import { useSearchParamsPatch } from "./use-search-params-patch";

/** A labelled <select> bound to one URL search param ("" = no filter). */
export function FilterSelect({ param, label, value, options, allLabel = "All", clears = [] }: {
  param: string;
  /** Params that depend on this one and are reset when it changes (e.g. scope under API). */
  clears?: string[];
  label: string;
  value: string | undefined;
  options: readonly { value: string; label: string }[];
  allLabel?: string;
}) {
  const { patch } = useSearchParamsPatch();
  return (
    <label className="flex flex-col gap-0.5 text-xs text-slate-500">
      {label}
      <select
        name={param}
        aria-label={label}
        value={value ?? ""}
        onChange={(e) => patch({ [param]: e.target.value, ...Object.fromEntries(clears.map((c) => [c, null])) })}
        className="rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900"
      >
        <option value="">{allLabel}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}
