-- The contracts or payments ($metric) behind a week of the weekly chart
-- ($point = the Monday 'YYYY-MM-DD'; NULL = every week of the chart, through
-- the period's last day).
WITH span AS (
    SELECT CAST(date_trunc('week', greatest(CAST($from AS DATE), CAST($to AS DATE) - 55)) AS DATE) AS w_from
)
SELECT 'contracts' AS entity, c.contract_id AS record_id, c.signed_on AS date, c.customer_id, c.customer_name,
       r.name AS rep_name, c.product_line, c.status, c.currency, c.amount, c.amount_base
FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
LEFT JOIN live.reps r ON r.rep_id = c.owner_rep_id
WHERE $metric = 'bookings'
  AND scoped.under_any(c.owner_org, $orgs) AND ($rep IS NULL OR c.owner_rep_id = $rep)
  AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
  AND c.signed_on BETWEEN (SELECT w_from FROM span) AND CAST($to AS DATE)
  AND ($point IS NULL OR strftime(date_trunc('week', c.signed_on), '%Y-%m-%d') = $point)
UNION ALL
SELECT 'payments', p.payment_id, p.paid_on, p.customer_id, p.customer_name, r.name, p.product_line, p.method,
       p.currency, p.amount, p.amount_base
FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
LEFT JOIN live.reps r ON r.rep_id = p.owner_rep_id
WHERE $metric = 'collections'
  AND scoped.under_any(p.owner_org, $orgs) AND ($rep IS NULL OR p.owner_rep_id = $rep)
  AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
  AND p.paid_on BETWEEN (SELECT w_from FROM span) AND CAST($to AS DATE)
  AND ($point IS NULL OR strftime(date_trunc('week', p.paid_on), '%Y-%m-%d') = $point)
ORDER BY date DESC, record_id
