-- The most valuable customers in the user's scope by the 7P value index (a
-- weighted mean of the seven scores), with tier, RFM segment, revenue, margin,
-- predicted 12-month value (CLV) and the probability they are still buying.
SELECT cu.customer_id, cu.customer_name, rp.name AS rep_name, v.tier, r.segment,
       CAST(d.revenue AS DOUBLE) AS revenue, CAST(v.margin AS DOUBLE) AS margin, l.clv, l.p_alive, v.value_index
FROM scoped.mart_customer_value($scope_all, $scope_org, $scope_rep) v
JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = v.customer_id
LEFT JOIN scoped.mart_customer_value_detail($scope_all, $scope_org, $scope_rep) d ON d.customer_id = v.customer_id
LEFT JOIN scoped.mart_rfm($scope_all, $scope_org, $scope_rep) r ON r.customer_id = v.customer_id
LEFT JOIN scoped.mart_clv($scope_all, $scope_org, $scope_rep) l ON l.customer_id = v.customer_id
LEFT JOIN live.reps rp ON rp.rep_id = cu.owner_rep_id
WHERE scoped.under_any(cu.owner_org, $orgs)
ORDER BY v.value_index DESC NULLS LAST, v.margin DESC, cu.customer_id
LIMIT 15  -- the rows the table shows (buildTopCustomers): DuckDB keeps the top 15, not 1.6 M sorted rows
