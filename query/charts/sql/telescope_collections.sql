-- Collections (payments received, refunds netted, base currency) by month, against the collections
-- target of the unit the page is about, for the months of the period through
-- $horizon_to (the end of the year for "this year": the months still to come
-- show their target). $cmp_shift: how many months back the comparison series
-- looks (12 = same month last year; NULL = no comparison).
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM range(CAST(date_trunc('month', CAST($from AS DATE)) AS TIMESTAMP), CAST(CAST($horizon_to AS DATE) + INTERVAL 1 DAY AS TIMESTAMP), INTERVAL 1 MONTH) r(m)
),
facts AS (
    SELECT c.paid_on AS d, c.amount_base AS v
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) c
    WHERE scoped.under_any(c.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
),
actual AS (
    SELECT CAST(date_trunc('month', d) AS DATE) AS month, sum(v) AS v
    FROM facts
    WHERE d BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
       OR ($cmp_shift IS NOT NULL AND d BETWEEN CAST($from AS DATE) - to_months(CAST($cmp_shift AS INTEGER))
                                            AND CAST($horizon_to AS DATE) - to_months(CAST($cmp_shift AS INTEGER)))
    GROUP BY 1
),
target AS (
    SELECT CAST(date_trunc('month', t.period_start) AS DATE) AS month, sum(t.amount) AS v
    FROM scoped.targets($scope_all, $scope_org, $scope_rep) t
    WHERE t.metric = 'collections'
      AND $product_lines IS NULL
      AND ((t.scope <> 'rep' AND list_contains($units, t.scope_id)) OR (t.scope = 'rep' AND t.scope_id = $node_rep))
    GROUP BY 1
)
SELECT m.month,
       CAST(CASE WHEN m.month <= CAST($to AS DATE) THEN coalesce(a.v, 0) END AS DOUBLE) AS actual,
       CAST(t.v AS DOUBLE) AS target,
       CAST(CASE WHEN $cmp_shift IS NOT NULL THEN coalesce(p.v, 0) END AS DOUBLE) AS compare
FROM months m
LEFT JOIN actual a ON a.month = m.month
LEFT JOIN target t ON t.month = m.month
LEFT JOIN actual p ON p.month = m.month - to_months(CAST($cmp_shift AS INTEGER))
ORDER BY m.month
