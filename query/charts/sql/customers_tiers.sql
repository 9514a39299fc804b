-- Value tiers of the 7P model: gold (the customers making 80 % of the margin),
-- potential gold (high prospects), ordinary, unprofitable (margin below 0):
-- customers in the user's scope, their margin, revenue and mean value index.
SELECT v.tier, count(*) AS customers, CAST(sum(v.margin) AS DOUBLE) AS margin,
       CAST(sum(d.revenue) AS DOUBLE) AS revenue, avg(v.value_index) AS value_index
FROM scoped.mart_customer_value($scope_all, $scope_org, $scope_rep) v
JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = v.customer_id
LEFT JOIN scoped.mart_customer_value_detail($scope_all, $scope_org, $scope_rep) d ON d.customer_id = v.customer_id
WHERE scoped.under_any(cu.owner_org, $orgs)
GROUP BY v.tier
ORDER BY CASE v.tier WHEN 'gold' THEN 1 WHEN 'potential_gold' THEN 2 WHEN 'ordinary' THEN 3 ELSE 4 END
