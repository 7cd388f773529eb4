"use client";

import { ApiReferenceReact } from "@scalar/api-reference-react";
import "@scalar/api-reference-react/style.css";

/**
 * The inventory API's OpenAPI description rendered by Scalar's maintained reference
 * component, bundled from npm: no CDN, no web fonts (withDefaultFonts off), no
 * telemetry, no AI agent, so it works on a machine without internet access. "Try it" requests go
 * to this Tollgate with the signed-in session.
 */
export function InventoryApiReference({ document }: { document: Record<string, unknown> }) {
  return (
    <div className="overflow-hidden rounded border border-slate-200 bg-white">
      <ApiReferenceReact
        configuration={{
          content: document,
          withDefaultFonts: false,
          telemetry: false,
          // "Ask AI" talks to Scalar's cloud: off, nothing leaves this Tollgate.
          agent: { disabled: true },
          hideDarkModeToggle: true,
          forceDarkModeState: "light",
          showDeveloperTools: "never",
        }}
      />
    </div>
  );
}
