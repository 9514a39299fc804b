-- Installments to chase (contract execution model): not yet covered by
-- payments, of contracts not cancelled or terminated, in the user's scope below
-- the org filter, with the customer, the rep and the days until (or, negative,
-- past) the due date. $point: 'b:<bucket>' (overdue by 0-30, 31-60, 61-90, >90
-- days), 'c:<customer_id>' (one customer's overdue installments), 'overdue',
-- 'due_7d', 'due_this_month', 'soon' (due within 7 days or this month);
-- NULL = every installment to chase.
SELECT d.contract_id || '|' || strftime(d.due_on, '%Y-%m-%d') AS installment_id,
       d.contract_id, c.customer_id, c.customer_name, r.name AS rep_name, u.name AS org_unit,
       d.due_on, d.days_until_due, d.status, d.amount_due, d.amount_paid, d.amount_due - d.amount_paid AS unpaid_base
FROM scoped.mart_settlements_due($scope_all, $scope_org, $scope_rep) d
JOIN scoped.contract_facts($scope_all, $scope_org, $scope_rep) c ON c.contract_id = d.contract_id
LEFT JOIN live.reps r ON r.rep_id = c.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = c.owner_org
WHERE scoped.under_any(c.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
  AND ($point IS NULL OR $point = d.status
       OR $point = 'soon' AND d.status IN ('due_7d', 'due_this_month')
       OR $point = 'c:' || c.customer_id AND d.status = 'overdue'
       OR $point LIKE 'b:%' AND d.status = 'overdue'
          AND CASE WHEN -d.days_until_due <= 30 THEN '0-30' WHEN -d.days_until_due <= 60 THEN '31-60'
                   WHEN -d.days_until_due <= 90 THEN '61-90' ELSE '>90' END = substr($point, 3))
ORDER BY d.due_on, d.contract_id
