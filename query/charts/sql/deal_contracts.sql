-- The contracts signed from a deal ($deal) with their execution (contract
-- execution model: paid, outstanding, overdue). Without a deal: the contracts
-- in the user's scope signed in the period.
SELECT c.contract_id, c.opportunity_id, c.customer_name, c.signed_on, c.start_on, c.end_on, c.status,
       c.currency, c.amount, c.amount_base, CAST(x.paid_to_date AS DOUBLE) AS paid_to_date,
       CAST(x.outstanding AS DOUBLE) AS outstanding, CAST(x.overdue_amount AS DOUBLE) AS overdue_amount,
       x.days_overdue_max, x.status AS execution
FROM scoped.contract_facts($scope_all, $scope_org, $scope_rep, one_deal := $deal) c
LEFT JOIN scoped.mart_contract_execution($scope_all, $scope_org, $scope_rep, one_deal := $deal) x ON x.contract_id = c.contract_id
WHERE ($deal IS NULL OR c.opportunity_id = $deal)
  AND ($deal IS NOT NULL OR c.signed_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
ORDER BY c.signed_on DESC, c.contract_id
