-- The header of a customer's 360 page ($id): the profile, the owner and the
-- lifecycle stage, the first contract and the last activity the user may
-- see. No row when the customer is not in the user's scope (the page then
-- answers 404). partial: some contracts, payments, deals, activities or
-- expenses of the customer belong to others than the user, so the page says
-- they are not shown (never how many or how much: the scope rule).
SELECT cu.customer_id, cu.customer_name, cu.industry, cu.size_band, cu.city, cu.source, cu.lifecycle_stage,
       cu.created_on, cu.owner_rep_id, r.name AS rep_name, cu.owner_org, u.name AS org_unit,
       (SELECT min(c.signed_on) FROM scoped.contract_facts($scope_all, $scope_org, $scope_rep) c WHERE c.customer_id = cu.customer_id) AS first_contract_on,
       (SELECT max(a.occurred_on) FROM scoped.activity_facts($scope_all, $scope_org, $scope_rep) a WHERE a.customer_id = cu.customer_id) AS last_activity_on,
       cu.customer_id NOT IN (SELECT v.customer_id FROM scoped.visible_customers($scope_all, $scope_org, $scope_rep,
           ['customer', 'contract', 'payment', 'opportunity', 'activity', 'expense']) v) AS partial
FROM scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu
LEFT JOIN live.reps r ON r.rep_id = cu.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = cu.owner_org
WHERE cu.customer_id = $id
