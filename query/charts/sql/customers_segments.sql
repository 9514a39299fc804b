-- RFM segments (by the R × F map of the RFM model): customers in the user's
-- scope, what they paid and how many days since their last purchase (mean).
SELECT r.segment, count(*) AS customers, CAST(sum(r.monetary) AS DOUBLE) AS monetary,
       avg(r.recency_days) AS recency_days
FROM scoped.mart_rfm($scope_all, $scope_org, $scope_rep) r
JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = r.customer_id
WHERE scoped.under_any(cu.owner_org, $orgs)
GROUP BY r.segment
ORDER BY customers DESC, r.segment
