"use client";
import { useEffect, useState } from "react";
import { useSearchParamsPatch } from "./use-search-params-patch";

/** Free-text search bound to a URL param; applies on Enter or after a short pause in typing. */
export function SearchInput({ param = "q", label, placeholder, value }: { param?: string; label: string; placeholder?: string; value: string | undefined }) {
  const { patch } = useSearchParamsPatch();
  const [text, setText] = useState(value ?? "");
  // The URL changed under us (back button, a link): show its value.
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setText(value ?? "");
  }
  useEffect(() => {
    if (text.trim() === (value ?? "")) return;
    const t = setTimeout(() => patch({ [param]: text.trim() }), 400);
    return () => clearTimeout(t);
  }, [text, value, param, patch]);
  return (
    <form
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        patch({ [param]: text.trim() });
      }}
      className="flex flex-col gap-0.5 text-xs text-slate-500"
    >
      <label htmlFor={`search-${param}`}>{label}</label>
      <input
        id={`search-${param}`}
        type="search"
        value={text}
        maxLength={100}
        placeholder={placeholder}
        onChange={(e) => setText(e.target.value)}
        className="w-56 rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900"
      />
    </form>
  );
}
