-- Customers in the user's scope below the org filter, from the customer models
-- (RFM, CLV, 7P) as of their last refresh: customers; paying customers (with an
-- RFM score); gold customers (the tier that makes 80 % of the margin) and their
-- share of the positive margin; total margin; predicted 12-month lifetime value
-- (CLV) with the mean probability of being alive; customers slipping away (RFM
-- segments at risk, can't lose, about to sleep) with what they paid. Sums are
-- exact (DECIMAL): a DOUBLE sum depends on the order rows arrive in.
WITH c AS (
    SELECT cu.customer_id, v.tier, v.margin, r.segment,
           r.monetary, l.clv, l.p_alive, r.customer_id IS NOT NULL AS paying
    FROM scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu
    LEFT JOIN scoped.mart_customer_value($scope_all, $scope_org, $scope_rep) v ON v.customer_id = cu.customer_id
    LEFT JOIN scoped.mart_rfm($scope_all, $scope_org, $scope_rep) r ON r.customer_id = cu.customer_id
    LEFT JOIN scoped.mart_clv($scope_all, $scope_org, $scope_rep) l ON l.customer_id = cu.customer_id
    WHERE scoped.under_any(cu.owner_org, $orgs)
)
SELECT 'customers' AS kpi, CAST(count(*) AS DOUBLE) AS value, CAST(count(*) FILTER (WHERE tier = 'unprofitable') AS DOUBLE) AS extra FROM c
UNION ALL SELECT 'paying', count(*) FILTER (WHERE paying), CAST(sum(monetary) AS DOUBLE) FROM c
UNION ALL SELECT 'gold', count(*) FILTER (WHERE tier = 'gold'),
                 CAST(sum(margin) FILTER (WHERE tier = 'gold' AND margin > 0) / nullif(sum(margin) FILTER (WHERE margin > 0), 0) AS DOUBLE) FROM c
UNION ALL SELECT 'margin', CAST(sum(margin) AS DOUBLE), CAST(sum(margin) / nullif(count(*) FILTER (WHERE margin IS NOT NULL), 0) AS DOUBLE) FROM c
UNION ALL SELECT 'clv', CAST(sum(CAST(clv AS DECIMAL(38,6))) AS DOUBLE), CAST(avg(CAST(p_alive AS DECIMAL(18,9))) AS DOUBLE) FROM c
UNION ALL SELECT 'at_risk', count(*) FILTER (WHERE segment IN ('at_risk', 'cant_lose', 'about_to_sleep')),
                 CAST(sum(monetary) FILTER (WHERE segment IN ('at_risk', 'cant_lose', 'about_to_sleep')) AS DOUBLE) FROM c
