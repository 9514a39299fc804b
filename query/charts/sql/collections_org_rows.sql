-- The contracts signed and payments received in the period behind a bar of the
-- collected-vs-contracted chart, in the user's scope. $point: 'u:<org_unit_id>'
-- (a child unit), 'r:<rep_id>' (a rep); NULL = every contract and payment of
-- the period below the unit the page is about.
WITH rows_all AS (
    SELECT 'contracts' AS entity, c.contract_id AS record_id, c.signed_on AS date, c.customer_name, c.owner_rep_id, c.owner_org,
           c.status, c.currency, c.amount, c.amount_base
    FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
    WHERE ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
      AND c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
    UNION ALL
    SELECT 'payments', p.payment_id, p.paid_on, p.customer_name, p.owner_rep_id, p.owner_org, p.method, p.currency, p.amount, p.amount_base
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
    WHERE ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
      AND p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
)
SELECT x.entity, x.record_id, x.date, x.customer_name, rp.name AS rep_name, u.name AS org_unit, x.status,
       x.currency, x.amount, x.amount_base
FROM rows_all x
LEFT JOIN live.reps rp ON rp.rep_id = x.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = x.owner_org
WHERE scoped.under(x.owner_org, $node) AND scoped.under_any(x.owner_org, $orgs)
  AND ($point IS NULL
       OR $point LIKE 'u:%' AND scoped.under(x.owner_org, substr($point, 3))
       OR $point LIKE 'r:%' AND x.owner_rep_id = substr($point, 3) AND ($node IS NULL OR x.owner_org = $node))
ORDER BY x.date DESC, x.entity, x.record_id
