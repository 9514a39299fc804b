-- The customers who owe the most past due: the unpaid part of their overdue
-- installments (contract execution model), in the user's scope below the org
-- filter, with the oldest days overdue.
SELECT c.customer_id, c.customer_name, CAST(sum(d.amount_due - d.amount_paid) AS DOUBLE) AS overdue_amount,
       max(-d.days_until_due) AS days_overdue_max, count(DISTINCT d.contract_id) AS contracts
FROM scoped.mart_settlements_due($scope_all, $scope_org, $scope_rep) d
JOIN scoped.contract_facts($scope_all, $scope_org, $scope_rep) c ON c.contract_id = d.contract_id
WHERE d.status = 'overdue'
  AND scoped.under_any(c.owner_org, $orgs)
  AND ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
GROUP BY c.customer_id, c.customer_name
ORDER BY overdue_amount DESC, c.customer_id
LIMIT 15
