-- The default as-of date: the latest date on which something happened in the
-- data (a payment, a signature, a close, an activity, a stage change). Dates in
-- the future by design (expected closes, due dates, contract ends, targets) do
-- not count, nor do rows a snapshot load marked deleted.
SELECT max(d) FROM (
    SELECT max(paid_on) AS d FROM payments WHERE _deleted_at IS NULL
    UNION ALL SELECT max(signed_on) FROM contracts WHERE _deleted_at IS NULL
    UNION ALL SELECT max(closed_on) FROM opportunities WHERE _deleted_at IS NULL
    UNION ALL SELECT max(CAST(created_at AS DATE)) FROM opportunities WHERE _deleted_at IS NULL
    UNION ALL SELECT max(CAST(entered_at AS DATE)) FROM opportunity_stages WHERE _deleted_at IS NULL
    UNION ALL SELECT max(CAST(occurred_at AS DATE)) FROM activities WHERE _deleted_at IS NULL
    UNION ALL SELECT max(incurred_on) FROM expenses WHERE _deleted_at IS NULL
)
