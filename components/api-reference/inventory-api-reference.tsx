"use client";

import { ApiReferenceReact } from "@scalar/api-reference-react";
import "@scalar/api-reference-react/style.css";

// Scalar's light theme paints method labels and muted text below WCAG AA contrast (axe-core, serious:
// yellow PATCH at 1.7:1, the search placeholder at 3.2:1). Darker values for the same variables; !important
// because the theme declares them on the same element.
const CONTRAST_CSS = `.light-mode, .light-mode .scalar-app, .scalar-app {
  --scalar-color-3: #595959 !important;
  --scalar-color-green: #047857 !important;
  --scalar-color-yellow: #8a5a00 !important;
  --scalar-color-red: #c00000 !important;
  --scalar-color-blue: #0b57d0 !important;
  --scalar-color-orange: #b45309 !important;
  --scalar-color-purple: #6d28d9 !important;
}`;

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
          customCss: CONTRAST_CSS,
        }}
      />
    </div>
  );
}
