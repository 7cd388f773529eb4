import type { FormState } from "@/lib/action";

/**
 * A create form's answer when it carries a secret shown only once (an API token, a webhook's signing secret): the error
 * as an alert, or the secret in a status box. Shared so the token and webhook forms answer alike.
 */
export function ShownOnceResult<T>({
  state,
  className,
  testId,
  message,
  secret,
}: {
  state: FormState<T>;
  className?: string;
  testId: string;
  message: (data: T) => React.ReactNode;
  secret: (data: T) => string;
}) {
  return (
    <>
      {state && !state.ok && (
        <p role="alert" className="text-red-700">
          {state.error.message}
        </p>
      )}
      {state?.ok && (
        <div role="status" className={["rounded border border-amber-300 bg-amber-50 p-3", className].filter(Boolean).join(" ")}>
          <p className="font-medium">{message(state.data)}</p>
          <code data-testid={testId} className="mt-2 block break-all rounded bg-white p-2 font-mono text-xs">
            {secret(state.data)}
          </code>
        </div>
      )}
    </>
  );
}
