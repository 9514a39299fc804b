-- A customer's contracts signed (bookings) and payments (collections, refunds
-- netted) by month over the last 36 months ($customer; without one, every
-- customer in the user's scope), base currency.
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM range(CAST(date_trunc('month', CAST($as_of AS DATE)) - INTERVAL 35 MONTH AS TIMESTAMP),
               CAST(date_trunc('month', CAST($as_of AS DATE)) + INTERVAL 1 MONTH AS TIMESTAMP), INTERVAL 1 MONTH) r(m)
),
c AS (
    SELECT CAST(date_trunc('month', c.signed_on) AS DATE) AS month, sum(c.amount_base) AS v
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE ($customer IS NULL OR c.customer_id = $customer)
    GROUP BY 1
),
p AS (
    SELECT CAST(date_trunc('month', p.paid_on) AS DATE) AS month, sum(p.amount_base) AS v
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
    WHERE ($customer IS NULL OR p.customer_id = $customer)
    GROUP BY 1
)
SELECT m.month, CAST(c.v AS DOUBLE) AS bookings, CAST(p.v AS DOUBLE) AS collections
FROM months m
LEFT JOIN c ON c.month = m.month
LEFT JOIN p ON p.month = m.month
ORDER BY m.month
