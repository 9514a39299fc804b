-- What the customer models say about a customer ($id, in the user's scope):
-- RFM scores and segment, probability of being alive (CLV), 7P tier and value
-- index, and the three best cross-sell product lines with the share of peers
-- that buy them.
SELECT rf.segment, rf.r_score, rf.f_score, rf.m_score, rf.recency_days, rf.frequency,
       l.p_alive, l.clv, v.tier, v.value_index, d.peer_group_size,
       (SELECT string_agg(x.product_line || '|' || CAST(round(x.peer_share * 100) AS INTEGER), ';' ORDER BY x.rank)
        FROM scoped.mart_cross_sell($scope_all, $scope_org, $scope_rep, one_customer := $id) x WHERE x.customer_id = cu.customer_id) AS cross_sell
FROM scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu
LEFT JOIN scoped.mart_rfm($scope_all, $scope_org, $scope_rep, one_customer := $id) rf ON rf.customer_id = cu.customer_id
LEFT JOIN scoped.mart_clv($scope_all, $scope_org, $scope_rep, one_customer := $id) l ON l.customer_id = cu.customer_id
LEFT JOIN scoped.mart_customer_value($scope_all, $scope_org, $scope_rep, one_customer := $id) v ON v.customer_id = cu.customer_id
LEFT JOIN scoped.mart_customer_value_detail($scope_all, $scope_org, $scope_rep, one_customer := $id) d ON d.customer_id = cu.customer_id
WHERE cu.customer_id = $id
