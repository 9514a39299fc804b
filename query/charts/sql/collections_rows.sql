-- The rows behind the receivables figures, in the user's scope below the org
-- filter. $point: 'outstanding' (contracts not paid in full), 'overdue',
-- 'due_7d', 'due_month' (installments not yet covered by payments), 'collected'
-- (payments in the period), 'm:YYYY-MM' (payments and installments due in a
-- month); NULL = all of them (each row once).
WITH c AS (
    SELECT c.*, x.outstanding, x.status AS execution
    FROM scoped.contract_facts($scope_all, $scope_org, $scope_rep) c
    LEFT JOIN scoped.mart_contract_execution($scope_all, $scope_org, $scope_rep) x ON x.contract_id = c.contract_id
    WHERE ($product_lines IS NULL OR list_contains($product_lines, c.product_line))
),
rows_all AS (
    SELECT 'contracts' AS entity, c.contract_id AS record_id, c.signed_on AS date, c.customer_name, c.owner_rep_id, c.owner_org,
           c.execution AS status, c.currency, c.amount, c.amount_base, CAST(c.outstanding AS DECIMAL(18,2)) AS unpaid_base
    FROM c
    WHERE ($point IS NULL OR $point = 'outstanding') AND c.execution IN ('current', 'overdue') AND c.outstanding > 0
    UNION ALL
    SELECT 'installments', d.contract_id || '|' || strftime(d.due_on, '%Y-%m-%d'), d.due_on, c.customer_name, c.owner_rep_id, c.owner_org,
           d.status, c.currency, NULL, d.amount_due, d.amount_due - d.amount_paid
    FROM scoped.mart_settlements_due($scope_all, $scope_org, $scope_rep) d JOIN c ON c.contract_id = d.contract_id
    WHERE $point IS NULL OR $point = d.status OR $point = 'due_month' AND d.status IN ('due_7d', 'due_this_month')
       OR $point = 'm:' || strftime(d.due_on, '%Y-%m')
    UNION ALL
    SELECT 'payments', p.payment_id, p.paid_on, p.customer_name, p.owner_rep_id, p.owner_org, p.method, p.currency, p.amount,
           p.amount_base, NULL
    FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
    WHERE ($product_lines IS NULL OR list_contains($product_lines, p.product_line))
      AND p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
      AND ($point IS NULL OR $point = 'collected' OR $point = 'm:' || strftime(p.paid_on, '%Y-%m'))
)
SELECT x.entity, x.record_id, x.date, x.customer_name, rp.name AS rep_name, u.name AS org_unit, x.status,
       x.currency, x.amount, x.amount_base, x.unpaid_base
FROM rows_all x
LEFT JOIN live.reps rp ON rp.rep_id = x.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = x.owner_org
WHERE scoped.under_any(x.owner_org, $orgs)
ORDER BY x.date DESC, x.entity, x.record_id
