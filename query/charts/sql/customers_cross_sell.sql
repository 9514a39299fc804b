-- Cross-sell: for the customers in the user's scope, the product lines their
-- peers (same industry, size and region) buy and they do not (7P model,
-- mart_cross_sell): per product line, the customers for whom it is the best
-- candidate and the mean share of peers that buy it.
SELECT x.product_line, count(*) FILTER (WHERE x.rank = 1) AS first_choice, count(*) AS candidates,
       avg(x.peer_share) AS peer_share
FROM main.mart_cross_sell x
JOIN dash.customers() cu ON cu.customer_id = x.customer_id
WHERE dash.in_scope(cu.owner_rep_id, cu.owner_org, $scope_all, $scope_org, $scope_rep)
  AND dash.under(cu.owner_org, $org)
GROUP BY x.product_line
ORDER BY first_choice DESC, candidates DESC, x.product_line
