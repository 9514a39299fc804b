-- The seven Ps (0–100 scores of the 7P model) on average per value tier, over
-- the customers in the user's scope: profiling (fit), persistency (loyalty),
-- profitability (margin), performance (paying on time), prospecting (future
-- value), product (breadth) and promotion (response).
SELECT v.tier, count(*) AS customers,
       avg(v.profiling_fit) AS profiling, avg(v.persistency) AS persistency, avg(v.profitability) AS profitability,
       avg(v.performance) AS performance, avg(v.prospecting) AS prospecting, avg(v.product) AS product,
       avg(v.promotion) AS promotion
FROM scoped.mart_customer_value($scope_all, $scope_org, $scope_rep) v
JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = v.customer_id
WHERE scoped.under_any(cu.owner_org, $orgs)
GROUP BY v.tier
ORDER BY CASE v.tier WHEN 'gold' THEN 1 WHEN 'potential_gold' THEN 2 WHEN 'ordinary' THEN 3 ELSE 4 END
