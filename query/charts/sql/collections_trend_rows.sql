-- The installments due and the payments received in a month of the period
-- ($point = 'YYYY-MM'; NULL = the whole period), in the user's scope below the
-- org filter. Installment amounts at the contract's booking rate.
WITH rows_all AS (
    SELECT 'installments' AS entity, s.contract_id || '|' || strftime(s.due_on, '%Y-%m-%d') AS record_id, s.due_on AS date,
           c.customer_name, c.owner_rep_id, c.owner_org, c.currency, s.amount,
           CAST(s.amount * (c.amount_base / nullif(c.amount, 0)) AS DECIMAL(18,2)) AS amount_base
    FROM scoped.payment_schedule($scope_all, $scope_org, $scope_rep) s
    JOIN scoped.contract_facts($scope_all, $scope_org, $scope_rep) c ON c.contract_id = s.contract_id
    WHERE c.status NOT IN ('cancelled', 'terminated')
      AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
      AND s.due_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
    UNION ALL
    SELECT 'payments', p.payment_id, p.paid_on, p.customer_name, p.owner_rep_id, p.owner_org, p.currency, p.amount, p.amount_base
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
    WHERE ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
      AND p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
)
SELECT x.entity, x.record_id, x.date, x.customer_name, rp.name AS rep_name, u.name AS org_unit, x.currency, x.amount, x.amount_base
FROM rows_all x
LEFT JOIN live.reps rp ON rp.rep_id = x.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = x.owner_org
WHERE scoped.under_any(x.owner_org, $orgs)
  AND ($point IS NULL OR strftime(x.date, '%Y-%m') = $point)
ORDER BY x.date DESC, x.entity, x.record_id
