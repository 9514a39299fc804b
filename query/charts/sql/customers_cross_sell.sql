-- Cross-sell: for the customers in the user's scope, the product lines their
-- peers (same industry, size and region) buy and they do not (7P model,
-- mart_cross_sell): per product line, the customers for whom it is the best
-- candidate and the mean share of peers that buy it.
SELECT x.product_line, count(*) FILTER (WHERE x.rank = 1) AS first_choice, count(*) AS candidates,
       avg(x.peer_share) AS peer_share
FROM scoped.mart_cross_sell($scope_all, $scope_org, $scope_rep) x
JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = x.customer_id
WHERE scoped.under_any(cu.owner_org, $orgs)
GROUP BY x.product_line
ORDER BY first_choice DESC, candidates DESC, x.product_line
