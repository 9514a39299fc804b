-- How the forecast moved: at each of the last 12 month-ends before the
-- models' as-of month (and at that date), the open pipeline expected to
-- close in the following 3 months, weighted by the default probability of
-- the stage each deal was in on that day (model "forecast":
-- mart_pipeline_trend, the deals open then as pipeline_at returns them),
-- next to what was actually booked in those 3 months (only once the 3 months
-- are over). Amounts are the deals' current amounts (amount history is not
-- kept); a deal is counted for the rep it names, as in the pipeline models.
WITH days AS (
    SELECT CAST(last_day(m) AS DATE) AS d
    FROM range(CAST(date_trunc('month', CAST(coalesce($models_as_of, $as_of) AS DATE)) - INTERVAL 12 MONTH AS TIMESTAMP),
               CAST(date_trunc('month', CAST(coalesce($models_as_of, $as_of) AS DATE)) AS TIMESTAMP), INTERVAL 1 MONTH) r(m)
    UNION SELECT CAST(coalesce($models_as_of, $as_of) AS DATE)
),
forecast AS (
    SELECT t.made_on AS d, sum(t.weighted) AS weighted, sum(t.pipeline) AS pipeline
    FROM scoped.mart_pipeline_trend($scope_all, $scope_org, $scope_rep) t
    WHERE scoped.under_any(t.org_unit_id, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, t.product_line))
    GROUP BY t.made_on
),
booked AS (
    SELECT e.d, sum(c.amount_base) AS actual
    FROM days e
    JOIN scoped.bookings($scope_all, $scope_org, $scope_rep) c ON c.signed_on > e.d AND c.signed_on <= last_day(e.d + INTERVAL 3 MONTH)
    WHERE scoped.under_any(c.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
    GROUP BY e.d
)
SELECT e.d AS made_on,
       CAST(coalesce(f.weighted, 0) AS DOUBLE) AS weighted,
       CAST(coalesce(f.pipeline, 0) AS DOUBLE) AS pipeline,
       CAST(CASE WHEN last_day(e.d + INTERVAL 3 MONTH) <= CAST($as_of AS DATE) THEN coalesce(b.actual, 0) END AS DOUBLE) AS actual
FROM days e
LEFT JOIN forecast f ON f.d = e.d
LEFT JOIN booked b ON b.d = e.d
ORDER BY e.d
