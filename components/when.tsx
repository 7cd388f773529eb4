import { ago, day, stamp } from "./format";

/**
 * A date as the dashboard shows every date: absolute, in UTC (a day, or a day and minute with `time`),
 * with the relative form ("3 days ago") as its tooltip when the server's `now` is known. One convention
 * on every page, so a reader never has to guess which kind of date a column holds.
 */
export function When({ date, now, time = false, never = "never" }: { date: Date | string | null | undefined; now?: number; time?: boolean; never?: string }) {
  if (!date) return <>{never}</>;
  const d = new Date(date);
  return (
    <time dateTime={d.toISOString()} title={now === undefined ? undefined : ago(d, now)}>
      {time ? stamp(d) : day(d)}
    </time>
  );
}
