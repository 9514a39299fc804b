-- A customer's deals ($customer; without one, every deal in the user's scope),
-- newest first: stage or outcome, amount, probability, expected and actual
-- close, product line, competitor and close reason.
SELECT o.opportunity_id, o.customer_name, o.created_on, CASE WHEN o.status = 'open' THEN o.stage ELSE o.status END AS status,
       o.probability, o.expected_close_on, o.closed_on, o.product_line, o.competitor, o.close_reason,
       r.name AS rep_name, o.currency, o.amount, o.amount_base
FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
LEFT JOIN live.reps r ON r.rep_id = o.owner_rep_id
WHERE ($customer IS NULL OR o.customer_id = $customer)
ORDER BY o.created_on DESC, o.opportunity_id
