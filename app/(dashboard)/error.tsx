"use client";
import { useEffect } from "react";

// Never show a stack trace: a short message, the error's digest (it matches the
// server log line), and a retry.
export default function DashboardError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div role="alert" className="max-w-lg rounded border border-red-200 bg-red-50 p-4">
      <h1 className="font-semibold text-red-900">Something went wrong loading this page</h1>
      <p className="mt-1 text-red-800">Try again; if it keeps happening, contact your Tollgate administrator.</p>
      {error.digest ? <p className="mt-1 font-mono text-xs text-red-700">Reference: {error.digest}</p> : null}
      <button type="button" onClick={reset} className="mt-3 rounded border border-red-300 bg-white px-3 py-1 text-red-900 hover:bg-red-100">
        Try again
      </button>
    </div>
  );
}
