// ESLint flat config: `npm run lint` (also run by .ci/run before the tests).
// typescript-eslint's recommended rules (not type-aware, so it stays fast on
// 2-core machines; `tsc --noEmit` does the type checking), the React hooks
// rules (including the React Compiler ones in eslint-plugin-react-hooks 7),
// and Next's own rules for app code.
import js from "@eslint/js";
import nextPlugin from "@next/eslint-plugin-next";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["lib/generated/**", ".next/**", "node_modules/**", ".data/**", "test-results/**", "playwright-report/**", "next-env.d.ts"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // React code only: elsewhere a `use…` name (e.g. the tests' useTestDatabase) is not a hook.
    files: ["app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks, "@next/next": nextPlugin },
    rules: {
      ...reactHooks.configs["recommended-latest"].rules,
      ...nextPlugin.configs.recommended.rules,
      ...nextPlugin.configs["core-web-vitals"].rules,
      // A notice that the React Compiler would skip a component (TanStack Table's useReactTable);
      // we do not run the compiler, so it is not a finding here.
      "react-hooks/incompatible-library": "off",
    },
  },
  {
    // Server components render once per request, and the request's time is what they should show.
    files: ["app/**/page.tsx", "app/**/layout.tsx"],
    rules: { "react-hooks/purity": "off" },
  },
  {
    // Plain Node scripts (the .ts ones are type-checked by tsc instead).
    files: ["**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
  {
    rules: {
      // `_name` marks a parameter a signature needs but the body does not use; `{ id, ...rest }` omits id.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
);
