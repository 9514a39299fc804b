-- The payments behind a month of the collections chart ($point = 'YYYY-MM';
-- NULL = every payment of the period).
SELECT p.payment_id, p.paid_on, p.customer_id, p.customer_name, p.contract_id, p.owner_rep_id AS rep_id, r.name AS rep_name, u.name AS org_unit,
       p.product_line, p.method, p.currency, p.amount, p.amount_base
FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
LEFT JOIN live.reps r ON r.rep_id = p.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = p.owner_org
WHERE scoped.under_any(p.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
  AND p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
  AND ($point IS NULL OR strftime(p.paid_on, '%Y-%m') = $point)
ORDER BY p.paid_on DESC, p.payment_id
