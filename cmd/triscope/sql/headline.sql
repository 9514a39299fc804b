-- Headline numbers printed by `triscope demo`: the 12 months up to the as-of
-- date (the latest date in the data, as the dashboards define it), counted
-- with the one definition of each figure (the KPI relations of schema scoped,
-- docs/glossary.md) for the whole company: the same numbers as the
-- Telescope's tiles for "last 12 months".
WITH as_of AS (
    SELECT max(d) AS d FROM (
        SELECT max(paid_on) AS d FROM live.payments
        UNION ALL SELECT max(signed_on) FROM live.contracts
        UNION ALL SELECT max(closed_on) FROM live.opportunities
        UNION ALL SELECT CAST(max(created_at) AS DATE) FROM live.opportunities
        UNION ALL SELECT CAST(max(entered_at) AS DATE) FROM live.opportunity_stages
        UNION ALL SELECT CAST(max(occurred_at) AS DATE) FROM live.activities
        UNION ALL SELECT max(incurred_on) FROM live.expenses
    )
),
win AS (
    SELECT CAST(d - INTERVAL 1 YEAR + INTERVAL 1 DAY AS DATE) AS f, d AS t FROM as_of
)
SELECT
    (SELECT d FROM as_of) AS as_of,
    (SELECT count(*) FROM scoped.customers(true, NULL, NULL)) AS customers,
    (SELECT count(*) FROM live.reps WHERE left_on IS NULL) AS active_reps,
    (SELECT count(*) FROM scoped.open_pipeline(true, NULL, NULL)) AS open_opportunities,
    (SELECT CAST(coalesce(sum(amount_base), 0) AS DOUBLE) FROM scoped.bookings(true, NULL, NULL), win WHERE signed_on BETWEEN f AND t) AS bookings_12m,
    (SELECT CAST(coalesce(sum(amount_base), 0) AS DOUBLE) FROM scoped.collections(true, NULL, NULL), win WHERE paid_on BETWEEN f AND t) AS collections_12m,
    (SELECT count(*) FILTER (WHERE won) / nullif(count(*), 0) FROM scoped.closed_deals(true, NULL, NULL), win WHERE closed_on BETWEEN f AND t) AS win_rate_12m
