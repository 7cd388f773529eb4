import { CronExpressionParser } from "cron-parser";
import { z } from "zod";

/**
 * A cron setting checked the way pg-boss will read it (cron-parser, UTC), so a
 * typo stops start-up naming the variable instead of making one job's
 * registration throw later while the dashboard keeps serving without it.
 * pg-boss reads an empty expression as "every minute"; that is refused too.
 */
export function cronSetting(fallback: string) {
  return z
    .string()
    .trim()
    .default(fallback)
    .superRefine((value, ctx) => {
      const problem = cronProblem(value);
      if (problem) ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a cron expression (${problem}); expected 5 fields, e.g. "${fallback}"` });
    });
}

export function cronProblem(value: string): string | null {
  const fields = value.split(/\s+/).filter(Boolean).length;
  if (fields < 5 || fields > 6) return `${fields} fields`;
  try {
    CronExpressionParser.parse(value, { tz: "UTC", strict: false });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
