"use client";
import { useActionState } from "react";
import type { FormState } from "@/lib/action";

/**
 * A plain <form> bound to a server action through useActionState (works
 * before hydration too). The action answers a sentence on success; the
 * result shows at the end of the form, as a status or an alert.
 */
export function ActionForm({
  action,
  children,
  className,
  messageClassName = "",
}: {
  action: (prev: FormState<string>, form: FormData) => Promise<FormState<string>>;
  children: React.ReactNode;
  className?: string;
  messageClassName?: string;
}) {
  const [state, formAction, pending] = useActionState(action, null);
  return (
    <form action={formAction} className={className} aria-busy={pending}>
      {children}
      {state ? (
        <p role={state.ok ? "status" : "alert"} className={`rounded p-2 text-sm ${state.ok ? "bg-emerald-50 text-emerald-800" : "bg-red-50 text-red-800"} ${messageClassName}`}>
          {state.ok ? state.data : state.error.message}
        </p>
      ) : null}
    </form>
  );
}

/** A row's one-button form: posts a single hidden id field (`name`=`value`) to the action. */
export function IdButtonForm({
  action,
  name,
  value,
  buttonClassName,
  children,
}: {
  action: (prev: FormState<string>, form: FormData) => Promise<FormState<string>>;
  name: string;
  value: string;
  buttonClassName: string;
  children: React.ReactNode;
}) {
  return (
    <ActionForm action={action}>
      <input type="hidden" name={name} value={value} />
      <button type="submit" className={buttonClassName}>
        {children}
      </button>
    </ActionForm>
  );
}
