-- Bookings (contracts signed) and collections (payments, refunds netted) month
-- by month in the period, for the rep ($rep; NULL = every rep in the user's
-- scope below the org filter), base currency.
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM range(CAST(date_trunc('month', CAST($from AS DATE)) AS TIMESTAMP),
               CAST(CAST($to AS DATE) + INTERVAL 1 DAY AS TIMESTAMP), INTERVAL 1 MONTH) r(m)
),
c AS (
    SELECT CAST(date_trunc('month', c.signed_on) AS DATE) AS month, sum(c.amount_base) AS v
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE scoped.under_any(c.owner_org, $orgs) AND ($rep IS NULL OR c.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
      AND c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
    GROUP BY 1
),
p AS (   -- whole months summed (scoped.collections_in)
    SELECT p.month, sum(p.amount_base) AS v
    FROM scoped.collections_in($scope_all, $scope_org, $scope_rep, CAST($from AS DATE), CAST($to AS DATE)) p
    WHERE scoped.under_any(p.owner_org, $orgs) AND ($rep IS NULL OR p.owner_rep_id = $rep)
      AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
    GROUP BY 1
)
SELECT m.month, CAST(coalesce(c.v, 0) AS DOUBLE) AS bookings, CAST(coalesce(p.v, 0) AS DOUBLE) AS collections
FROM months m
LEFT JOIN c ON c.month = m.month
LEFT JOIN p ON p.month = m.month
ORDER BY m.month
