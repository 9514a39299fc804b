-- Collections (payments received, refunds netted, base currency) by month, against the collections
-- target of the unit the page is about, for the months of the period through
-- $horizon_to (the end of the year for "this year": the months still to come
-- show their target). $cmp_shift: how many months back the comparison series
-- looks (12 = same month last year; NULL = no comparison).
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM range(CAST(date_trunc('month', CAST($from AS DATE)) AS TIMESTAMP), CAST(CAST($horizon_to AS DATE) + INTERVAL 1 DAY AS TIMESTAMP), INTERVAL 1 MONTH) r(m)
),
-- Collections by month over the period's days and the comparison window's
-- ($cmp_shift months back, through $horizon_to), each day once (the window's
-- days before the period and after it), whole months summed.
actual AS (
    SELECT c.month, sum(c.amount_base) AS v
    FROM (
        SELECT * FROM scoped.collections_in($scope_all, $scope_org, $scope_rep, CAST($from AS DATE), CAST($to AS DATE))
        UNION ALL
        SELECT * FROM scoped.collections_in($scope_all, $scope_org, $scope_rep,
            CAST(CAST($from AS DATE) - to_months(CAST($cmp_shift AS INTEGER)) AS DATE),
            least(CAST(CAST($horizon_to AS DATE) - to_months(CAST($cmp_shift AS INTEGER)) AS DATE), CAST($from AS DATE) - 1))
        UNION ALL
        SELECT * FROM scoped.collections_in($scope_all, $scope_org, $scope_rep,
            greatest(CAST(CAST($from AS DATE) - to_months(CAST($cmp_shift AS INTEGER)) AS DATE), CAST($to AS DATE) + 1),
            CAST(CAST($horizon_to AS DATE) - to_months(CAST($cmp_shift AS INTEGER)) AS DATE))
    ) c
    WHERE scoped.under_any(c.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
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
