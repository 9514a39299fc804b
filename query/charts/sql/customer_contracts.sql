-- A customer's contracts ($customer; without one, every contract in the
-- user's scope) with their execution (contract execution model): paid to date,
-- outstanding, overdue, the oldest unpaid installment's days overdue and the
-- share of installments paid on time.
SELECT c.contract_id, c.customer_name, c.signed_on, c.start_on, c.end_on, c.status, c.product_line,
       c.currency, c.amount, c.amount_base, CAST(x.paid_to_date AS DOUBLE) AS paid_to_date,
       CAST(x.outstanding AS DOUBLE) AS outstanding, CAST(x.overdue_amount AS DOUBLE) AS overdue_amount,
       x.days_overdue_max, x.on_time_share, x.status AS execution
FROM scoped.contract_facts($scope_all, $scope_org, $scope_rep, one_customer := $customer) c
LEFT JOIN scoped.mart_contract_execution($scope_all, $scope_org, $scope_rep, one_customer := $customer) x ON x.contract_id = c.contract_id
WHERE ($customer IS NULL OR c.customer_id = $customer)
ORDER BY c.signed_on DESC, c.contract_id
