-- This week's and this month's bookings and collections against their
-- targets, for a home page: the unit the page is about ($units, or the rep
-- $node_rep) or the rep whose page it is ($rep). The week is the ISO week
-- (Monday to Sunday) holding the as-of date: its target is the weekly split
-- of mart_targets (working days of the week); the month's is the monthly
-- target. extra: the same targets to date, prorated by working days up to
-- the day the data reaches (scoped.targets_in, as every attainment).
-- Actuals are the KPIs bookings and collections; with a product-line filter
-- there is no target (targets are not per line).
WITH p AS (
    SELECT CAST(date_trunc('week', CAST($as_of AS DATE)) AS DATE) AS w0,
           CAST(date_trunc('month', CAST($as_of AS DATE)) AS DATE) AS m0,
           CAST($as_of AS DATE) AS d
),
con AS (
    SELECT c.signed_on AS day, c.amount_base AS v
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE scoped.under_any(c.owner_org, $orgs) AND ($rep IS NULL OR c.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
      AND c.signed_on BETWEEN least((SELECT w0 FROM p), (SELECT m0 FROM p)) AND (SELECT d FROM p)
),
pay AS (
    SELECT x.paid_on AS day, x.amount_base AS v
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) x
    WHERE scoped.under_any(x.owner_org, $orgs) AND ($rep IS NULL OR x.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, x.product_line))
      AND x.paid_on BETWEEN least((SELECT w0 FROM p), (SELECT m0 FROM p)) AND (SELECT d FROM p)
),
week_target AS (   -- the weekly split (mart_targets)
    SELECT t.metric, sum(t.target) AS target
    FROM scoped.mart_targets($scope_all, $scope_org, $scope_rep) t
    WHERE $product_lines IS NULL AND t.week_start = (SELECT w0 FROM p)
      AND (($rep IS NOT NULL AND t.scope = 'rep' AND t.scope_id = $rep)
        OR ($rep IS NULL AND ((t.scope <> 'rep' AND list_contains($units, t.scope_id)) OR (t.scope = 'rep' AND t.scope_id = $node_rep))))
    GROUP BY ALL
),
month_target AS (
    SELECT t.metric, sum(t.amount) AS target
    FROM scoped.targets($scope_all, $scope_org, $scope_rep) t
    WHERE $product_lines IS NULL AND t.period_start = (SELECT m0 FROM p)
      AND (($rep IS NOT NULL AND t.scope = 'rep' AND t.scope_id = $rep)
        OR ($rep IS NULL AND ((t.scope <> 'rep' AND list_contains($units, t.scope_id)) OR (t.scope = 'rep' AND t.scope_id = $node_rep))))
    GROUP BY ALL
),
week_to_date AS (
    SELECT t.metric, sum(t.amount) AS target
    FROM scoped.targets_in($scope_all, $scope_org, $scope_rep, (SELECT w0 FROM p), (SELECT w0 + 6 FROM p)) t
    WHERE $product_lines IS NULL
      AND (($rep IS NOT NULL AND t.scope = 'rep' AND t.scope_id = $rep)
        OR ($rep IS NULL AND ((t.scope <> 'rep' AND list_contains($units, t.scope_id)) OR (t.scope = 'rep' AND t.scope_id = $node_rep))))
    GROUP BY ALL
),
month_to_date AS (
    SELECT t.metric, sum(t.amount) AS target
    FROM scoped.targets_in($scope_all, $scope_org, $scope_rep, (SELECT m0 FROM p), (SELECT last_day(m0) FROM p)) t
    WHERE $product_lines IS NULL
      AND (($rep IS NOT NULL AND t.scope = 'rep' AND t.scope_id = $rep)
        OR ($rep IS NULL AND ((t.scope <> 'rep' AND list_contains($units, t.scope_id)) OR (t.scope = 'rep' AND t.scope_id = $node_rep))))
    GROUP BY ALL
)
SELECT 'week_bookings' AS kpi,
       CAST(coalesce((SELECT sum(v) FROM con WHERE day >= (SELECT w0 FROM p)), 0) AS DOUBLE) AS value,
       CAST((SELECT target FROM week_target WHERE metric = 'bookings') AS DOUBLE) AS target,
       CAST((SELECT target FROM week_to_date WHERE metric = 'bookings') AS DOUBLE) AS extra
UNION ALL
SELECT 'month_bookings',
       CAST(coalesce((SELECT sum(v) FROM con WHERE day >= (SELECT m0 FROM p)), 0) AS DOUBLE),
       CAST((SELECT target FROM month_target WHERE metric = 'bookings') AS DOUBLE),
       CAST((SELECT target FROM month_to_date WHERE metric = 'bookings') AS DOUBLE)
UNION ALL
SELECT 'week_collections',
       CAST(coalesce((SELECT sum(v) FROM pay WHERE day >= (SELECT w0 FROM p)), 0) AS DOUBLE),
       CAST((SELECT target FROM week_target WHERE metric = 'collections') AS DOUBLE),
       CAST((SELECT target FROM week_to_date WHERE metric = 'collections') AS DOUBLE)
UNION ALL
SELECT 'month_collections',
       CAST(coalesce((SELECT sum(v) FROM pay WHERE day >= (SELECT m0 FROM p)), 0) AS DOUBLE),
       CAST((SELECT target FROM month_target WHERE metric = 'collections') AS DOUBLE),
       CAST((SELECT target FROM month_to_date WHERE metric = 'collections') AS DOUBLE)
