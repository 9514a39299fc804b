-- Settlements due soon: installments due within 7 days or by the end of the
-- month, not yet covered by payments (contract execution model), in the user's
-- scope below the org filter, soonest first.
SELECT d.contract_id || '|' || strftime(d.due_on, '%Y-%m-%d') AS installment_id,
       d.contract_id, c.customer_id, c.customer_name, r.name AS rep_name, d.due_on, d.days_until_due, d.status,
       CAST(d.amount_due - d.amount_paid AS DOUBLE) AS unpaid_base
FROM scoped.mart_settlements_due($scope_all, $scope_org, $scope_rep) d
JOIN scoped.contract_facts($scope_all, $scope_org, $scope_rep) c ON c.contract_id = d.contract_id
LEFT JOIN live.reps r ON r.rep_id = c.owner_rep_id
WHERE d.status IN ('due_7d', 'due_this_month')
  AND scoped.under_any(c.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
ORDER BY d.due_on, unpaid_base DESC, d.contract_id
