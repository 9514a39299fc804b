-- The rows behind a this-week / this-month tile ($point = week_bookings,
-- month_bookings, week_collections, month_collections; NULL = all of them):
-- the contracts signed and payments received from the start of the week (or
-- month) holding the as-of date through it, of the unit or rep of the page.
WITH p AS (
    SELECT CAST(date_trunc('week', CAST($as_of AS DATE)) AS DATE) AS w0,
           CAST(date_trunc('month', CAST($as_of AS DATE)) AS DATE) AS m0,
           CAST($as_of AS DATE) AS d
)
SELECT 'contracts' AS entity, c.contract_id AS record_id, c.signed_on AS date, c.customer_name,
       r.name AS rep_name, c.product_line, c.status, c.currency, c.amount, c.amount_base
FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
LEFT JOIN live.reps r ON r.rep_id = c.owner_rep_id
WHERE scoped.under_any(c.owner_org, $orgs) AND ($rep IS NULL OR c.owner_rep_id = $rep)
  AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
  AND c.signed_on <= (SELECT d FROM p)
  AND (($point IS NULL OR $point = 'month_bookings') AND c.signed_on >= (SELECT m0 FROM p)
       OR $point = 'week_bookings' AND c.signed_on >= (SELECT w0 FROM p)
       OR $point IS NULL AND c.signed_on >= (SELECT w0 FROM p))
UNION ALL
SELECT 'payments', x.payment_id, x.paid_on, x.customer_name, r.name, x.product_line, x.method, x.currency, x.amount, x.amount_base
FROM scoped.collections($scope_all, $scope_org, $scope_rep) x
LEFT JOIN live.reps r ON r.rep_id = x.owner_rep_id
WHERE scoped.under_any(x.owner_org, $orgs) AND ($rep IS NULL OR x.owner_rep_id = $rep)
  AND ($product_lines IS NULL OR list_contains($product_lines, x.product_line))
  AND x.paid_on <= (SELECT d FROM p)
  AND (($point IS NULL OR $point = 'month_collections') AND x.paid_on >= (SELECT m0 FROM p)
       OR $point = 'week_collections' AND x.paid_on >= (SELECT w0 FROM p)
       OR $point IS NULL AND x.paid_on >= (SELECT w0 FROM p))
ORDER BY date DESC, record_id
