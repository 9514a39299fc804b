-- The contracts behind a month of the bookings chart ($point = 'YYYY-MM';
-- NULL = every contract of the period).
SELECT c.contract_id, c.signed_on, c.customer_id, c.customer_name, c.owner_rep_id AS rep_id, r.name AS rep_name, u.name AS org_unit,
       c.product_line, c.channel, c.status, c.currency, c.amount, c.amount_base
FROM scoped.bookings($scope_all, $scope_org, $scope_rep) c
LEFT JOIN live.reps r ON r.rep_id = c.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = c.owner_org
WHERE scoped.under_any(c.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
  AND c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
  AND ($point IS NULL OR strftime(c.signed_on, '%Y-%m') = $point)
ORDER BY c.signed_on DESC, c.contract_id
