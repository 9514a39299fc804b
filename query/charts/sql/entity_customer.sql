-- The header of a customer's 360 page ($id): the profile, the owner and the
-- lifecycle stage. No row when the customer is not in the user's scope (the
-- page then answers 404).
SELECT cu.customer_id, cu.customer_name, cu.industry, cu.size_band, cu.city, cu.source, cu.lifecycle_stage,
       cu.created_on, cu.owner_rep_id, r.name AS rep_name, cu.owner_org, u.name AS org_unit,
       (SELECT min(c.signed_on) FROM scoped.contracts($scope_all, $scope_org, $scope_rep) c WHERE c.customer_id = cu.customer_id) AS first_contract_on,
       (SELECT CAST(max(a.occurred_at) AS DATE) FROM scoped.activities($scope_all, $scope_org, $scope_rep) a WHERE a.customer_id = cu.customer_id) AS last_activity_on
FROM scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu
LEFT JOIN live.reps r ON r.rep_id = cu.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = cu.owner_org
WHERE cu.customer_id = $id
