-- Pipeline coverage: the open deals at the as-of date by the month they are
-- expected to close, for the next 3 months (plus "slipped": expected before
-- the as-of date and still open), total and weighted by win probability,
-- against the bookings target of those months for the unit the page is about.
WITH months AS (
    SELECT strftime(m, '%Y-%m') AS bucket, CAST(m AS DATE) AS month
    FROM range(CAST(date_trunc('month', CAST($as_of AS DATE)) + INTERVAL 1 MONTH AS TIMESTAMP),
               CAST(date_trunc('month', CAST($as_of AS DATE)) + INTERVAL 4 MONTH AS TIMESTAMP), INTERVAL 1 MONTH) r(m)
),
buckets AS (
    SELECT 'slipped' AS bucket, CAST(NULL AS DATE) AS month, 0 AS pos
    UNION ALL SELECT bucket, month, row_number() OVER (ORDER BY month) FROM months
),
open AS (
    SELECT CASE WHEN o.expected_close_on <= CAST($as_of AS DATE) THEN 'slipped'
                ELSE strftime(o.expected_close_on, '%Y-%m') END AS bucket,
           o.amount_base, CAST(o.amount_base AS DOUBLE) * o.probability / 100 AS weighted
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    WHERE scoped.under_any(o.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, o.product_line))
      AND o.status = 'open'
),
target AS (
    SELECT strftime(t.period_start, '%Y-%m') AS bucket, sum(t.amount) AS v
    FROM scoped.targets($scope_all, $scope_org, $scope_rep) t
    WHERE t.metric = 'bookings'
      AND $product_lines IS NULL
      AND ((t.scope <> 'rep' AND list_contains($units, t.scope_id)) OR (t.scope = 'rep' AND t.scope_id = $node_rep))
    GROUP BY 1
)
SELECT b.bucket, b.month,
       CAST(coalesce(sum(o.amount_base), 0) AS DOUBLE) AS pipeline,
       CAST(coalesce(sum(o.weighted), 0) AS DOUBLE) AS weighted,
       CAST(any_value(t.v) AS DOUBLE) AS target,
       count(o.bucket) AS deals
FROM buckets b
LEFT JOIN open o ON o.bucket = b.bucket
LEFT JOIN target t ON t.bucket = b.bucket
GROUP BY b.bucket, b.month, b.pos
ORDER BY b.pos
