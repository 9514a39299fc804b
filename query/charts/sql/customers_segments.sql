-- RFM segments (by the R × F map of the RFM model): customers in the user's
-- scope, what they paid and how many days since their last purchase (mean).
SELECT r.segment, count(*) AS customers, CAST(sum(r.monetary) AS DOUBLE) AS monetary,
       avg(r.recency_days) AS recency_days
FROM main.mart_rfm r
JOIN dash.customers() cu ON cu.customer_id = r.customer_id
WHERE dash.in_scope(cu.owner_rep_id, cu.owner_org, $scope_all, $scope_org, $scope_rep)
  AND dash.under(cu.owner_org, $org)
GROUP BY r.segment
ORDER BY customers DESC, r.segment
