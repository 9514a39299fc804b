-- A customer's payments ($customer; without one, the payments in the user's
-- scope in the period), newest first; a negative amount is a refund.
SELECT p.payment_id, p.customer_name, p.paid_on, p.contract_id, p.method, p.currency, p.amount, p.amount_base
FROM scoped.collections($scope_all, $scope_org, $scope_rep) p
WHERE ($customer IS NULL OR p.customer_id = $customer)
  AND ($customer IS NOT NULL OR p.paid_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
ORDER BY p.paid_on DESC, p.payment_id
