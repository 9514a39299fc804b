-- A customer's seven P scores (0–100, 7P model) against the mean of its RFM
-- segment (else of its value tier) over the customers in the user's scope.
WITH me AS (
    SELECT v.*, r.segment
    FROM scoped.mart_customer_value($scope_all, $scope_org, $scope_rep, one_customer := $customer) v
    JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = v.customer_id
    LEFT JOIN scoped.mart_rfm($scope_all, $scope_org, $scope_rep, one_customer := $customer) r ON r.customer_id = v.customer_id
    WHERE v.customer_id = $customer
),
peers AS (
    SELECT v.*
    FROM scoped.mart_customer_value($scope_all, $scope_org, $scope_rep) v
    JOIN scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu ON cu.customer_id = v.customer_id
    LEFT JOIN scoped.mart_rfm($scope_all, $scope_org, $scope_rep) r ON r.customer_id = v.customer_id
    JOIN me ON (me.segment IS NOT NULL AND r.segment = me.segment) OR (me.segment IS NULL AND r.segment IS NULL AND v.tier = me.tier)
)
SELECT 'customer' AS who, me.segment, me.tier, 1 AS customers,
       me.profiling_fit AS profiling, me.persistency, me.profitability, me.performance, me.prospecting, me.product, me.promotion
FROM me
UNION ALL
SELECT 'peers', any_value(me.segment), any_value(me.tier), count(*),
       avg(p.profiling_fit), avg(p.persistency), avg(p.profitability), avg(p.performance), avg(p.prospecting), avg(p.product), avg(p.promotion)
FROM peers p CROSS JOIN me
HAVING count(*) > 0
