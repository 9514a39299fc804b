-- A customer's seven P scores (0–100, 7P model) against the mean of its peer
-- group over the customers in the user's scope: the customers of its RFM
-- segment, else (without one) of its value tier (peer_group,
-- mart_customer_value_peers, ordered by it: the group's rows are read alone).
WITH me AS (
    SELECT v.*
    FROM scoped.mart_customer_value_peers($scope_all, $scope_org, $scope_rep, one_customer := $customer) v
    JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = v.customer_id
    WHERE v.customer_id = $customer
),
peers AS (
    SELECT p.*
    FROM scoped.mart_customer_value_peers($scope_all, $scope_org, $scope_rep, one_group := (SELECT peer_group FROM me)) p
)
SELECT 'customer' AS who, me.segment, me.tier, 1 AS customers,
       me.profiling_fit AS profiling, me.persistency, me.profitability, me.performance, me.prospecting, me.product, me.promotion
FROM me
UNION ALL
SELECT 'peers', any_value(me.segment), any_value(me.tier), count(*),
       avg(p.profiling_fit), avg(p.persistency), avg(p.profitability), avg(p.performance), avg(p.prospecting), avg(p.product), avg(p.promotion)
FROM peers p CROSS JOIN me
HAVING count(*) > 0
