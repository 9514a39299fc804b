-- The forecast of the next months (model "forecast": mart_forecast) for the
-- unit the page is about, every method with its range, against the bookings
-- target of those months, with each method's backtest accuracy
-- (mart_forecast_accuracy: WAPE by horizon at the unit's level of the tree).
WITH node AS (
    SELECT u.org_unit_id, u.level FROM live.org_units u
    WHERE u.org_unit_id = $node
      AND scoped.sees(NULL, u.org_unit_id, $scope_all, $scope_org, $scope_rep)
),
fc AS (
    SELECT CAST(CAST(f.month AS VARCHAR)[1:7] || '-01' AS DATE) AS month, f.method,
           CAST(sum(f.amount) AS DOUBLE) AS amount, CAST(sum(f.low) AS DOUBLE) AS low, CAST(sum(f.high) AS DOUBLE) AS high
    FROM scoped.mart_forecast($scope_all, $scope_org, $scope_rep) f JOIN node n ON n.org_unit_id = f.org_unit_id
    WHERE $product_lines IS NULL
    GROUP BY ALL
),
target AS (
    SELECT CAST(date_trunc('month', t.period_start) AS DATE) AS month, sum(t.amount) AS v
    FROM scoped.targets($scope_all, $scope_org, $scope_rep) t JOIN node n ON n.org_unit_id = t.scope_id
    WHERE t.metric = 'bookings' AND t.scope <> 'rep'
    GROUP BY 1
),
acc AS (
    SELECT a.method, CAST(avg(a.wape) AS DOUBLE) AS wape, CAST(avg(a.bias) AS DOUBLE) AS bias, sum(a.n_points) AS n_points
    FROM scoped.benchmark_forecast_accuracy($scope_all, $scope_org, $scope_rep) a
    WHERE a.org_level = (SELECT level FROM node)
    GROUP BY a.method
)
SELECT fc.month, fc.method, fc.amount, fc.low, fc.high, CAST(t.v AS DOUBLE) AS target,
       acc.wape, acc.bias, acc.n_points
FROM fc
LEFT JOIN target t ON t.month = fc.month
LEFT JOIN acc ON acc.method = fc.method
ORDER BY fc.month, fc.method
