-- Headline numbers printed by `triscope demo`: the last 12 months up to the
-- latest date in the data, in the base currency ($1) with fx_rates.
WITH as_of AS (
    SELECT max(d) AS d FROM (
        SELECT max(paid_on) AS d FROM payments
        UNION ALL SELECT max(signed_on) FROM contracts
        UNION ALL SELECT max(closed_on) FROM opportunities
    )
),
rate AS (
    SELECT currency, on_date, rate_to_base FROM fx_rates
),
pay AS (
    SELECT p.amount * coalesce(CASE WHEN coalesce(p.currency, $1) = $1 THEN 1 END,
        (SELECT r.rate_to_base FROM rate r WHERE r.currency = p.currency AND r.on_date <= p.paid_on ORDER BY r.on_date DESC LIMIT 1)) AS amount
    FROM payments p, as_of
    WHERE p.paid_on > as_of.d - INTERVAL 12 MONTH AND p.paid_on <= as_of.d
),
con AS (
    SELECT c.amount * coalesce(CASE WHEN coalesce(c.currency, $1) = $1 THEN 1 END,
        (SELECT r.rate_to_base FROM rate r WHERE r.currency = c.currency AND r.on_date <= c.signed_on ORDER BY r.on_date DESC LIMIT 1)) AS amount
    FROM contracts c, as_of
    WHERE c.signed_on > as_of.d - INTERVAL 12 MONTH AND c.signed_on <= as_of.d
),
closed AS (
    SELECT count(*) FILTER (WHERE status = 'won') AS won, count(*) FILTER (WHERE status IN ('won', 'lost')) AS closed
    FROM opportunities, as_of
    WHERE closed_on > as_of.d - INTERVAL 12 MONTH AND closed_on <= as_of.d
)
SELECT
    (SELECT d FROM as_of) AS as_of,
    (SELECT count(*) FROM customers) AS customers,
    (SELECT count(*) FROM reps WHERE left_on IS NULL) AS active_reps,
    (SELECT count(*) FROM opportunities WHERE status = 'open') AS open_opportunities,
    CAST((SELECT coalesce(sum(amount), 0) FROM con) AS DOUBLE) AS bookings_12m,
    CAST((SELECT coalesce(sum(amount), 0) FROM pay) AS DOUBLE) AS collections_12m,
    (SELECT CASE WHEN closed > 0 THEN won / closed END FROM closed) AS win_rate_12m
