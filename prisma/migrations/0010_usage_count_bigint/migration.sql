-- Issue 14 item 2: three reports of 1,000,000,000 requests for one grant-day overflowed
-- INTEGER (a 500, then every later report for that grant-day failed too, stalling a proxy's
-- feed). Ingest now bounds a report's count per grant-day; the column is widened so the
-- running total of many bounded reports cannot overflow either.
ALTER TABLE "GrantUsageDaily" ALTER COLUMN "requestCount" TYPE BIGINT;
