-- The RFM grid: paying customers in the user's scope by recency score (R, 5 =
-- bought most recently) and frequency score (F, 5 = buys most often), with what
-- they paid (M, base currency, refunds netted). Scores are quintiles of the RFM
-- model (mart_rfm).
SELECT r.r_score, r.f_score, count(*) AS customers, CAST(sum(r.monetary) AS DOUBLE) AS monetary
FROM scoped.mart_rfm($scope_all, $scope_org, $scope_rep) r
JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = r.customer_id
WHERE scoped.under_any(cu.owner_org, $orgs)
GROUP BY r.r_score, r.f_score
ORDER BY r.r_score, r.f_score
