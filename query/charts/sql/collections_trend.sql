-- Month by month in the period: what was scheduled to be paid (installments
-- due in the month, at the contract's booking rate; contracts not cancelled or
-- terminated) and what was collected (payments, refunds netted), in the user's
-- scope below the org filter, base currency.
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM range(CAST(date_trunc('month', CAST($from AS DATE)) AS TIMESTAMP),
               CAST(CAST($to AS DATE) + INTERVAL 1 DAY AS TIMESTAMP), INTERVAL 1 MONTH) r(m)
),
due AS (
    SELECT CAST(date_trunc('month', s.due_on) AS DATE) AS month, sum(s.amount * (c.amount_base / nullif(c.amount, 0))) AS v
    FROM scoped.payment_schedule($scope_all, $scope_org, $scope_rep) s
    JOIN scoped.contract_facts($scope_all, $scope_org, $scope_rep) c ON c.contract_id = s.contract_id
    WHERE c.status NOT IN ('cancelled', 'terminated')
      AND scoped.under_any(c.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
      AND s.due_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
    GROUP BY 1
),
paid AS (   -- whole months summed (scoped.collections_in)
    SELECT p.month, sum(p.amount_base) AS v
    FROM scoped.collections_in($scope_all, $scope_org, $scope_rep, CAST($from AS DATE), CAST($to AS DATE)) p
    WHERE scoped.under_any(p.owner_org, $orgs)
      AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
    GROUP BY 1
)
SELECT m.month, CAST(coalesce(d.v, 0) AS DOUBLE) AS scheduled, CAST(coalesce(p.v, 0) AS DOUBLE) AS collected
FROM months m
LEFT JOIN due d ON d.month = m.month
LEFT JOIN paid p ON p.month = m.month
ORDER BY m.month
