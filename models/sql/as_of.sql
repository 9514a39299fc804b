-- The default as-of date: the latest date on which something happened in the
-- data (a payment, a signature, a close, an activity, a stage change). Dates in
-- the future by design (expected closes, due dates, contract ends, targets) do
-- not count, nor do rows a snapshot load marked deleted (schema live,
-- migration 0006). Timestamps are cast after max() (the same day, and one
-- cast instead of one per row: casting a TIMESTAMPTZ to a DATE goes through
-- ICU and costs seconds on 36 M rows).
SELECT max(d) FROM (
    SELECT max(paid_on) AS d FROM live.payments
    UNION ALL SELECT max(signed_on) FROM live.contracts
    UNION ALL SELECT max(closed_on) FROM live.opportunities
    UNION ALL SELECT CAST(max(created_at) AS DATE) FROM live.opportunities
    UNION ALL SELECT CAST(max(entered_at) AS DATE) FROM live.opportunity_stages
    UNION ALL SELECT CAST(max(occurred_at) AS DATE) FROM live.activities
    UNION ALL SELECT max(incurred_on) FROM live.expenses
)
