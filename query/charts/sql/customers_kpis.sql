-- Customers in the user's scope below the org filter, from the customer models
-- (RFM, CLV, 7P) as of their last refresh: customers; paying customers (with an
-- RFM score); gold customers (the tier that makes 80 % of the margin) and their
-- share of the positive margin; total margin; predicted 12-month lifetime value
-- (CLV) with the mean probability of being alive; customers slipping away (RFM
-- segments at risk, can't lose, about to sleep) with what they paid.
WITH c AS (
    SELECT cu.customer_id, v.tier, CAST(v.margin AS DOUBLE) AS margin, r.segment,
           CAST(r.monetary AS DOUBLE) AS monetary, l.clv, l.p_alive, r.customer_id IS NOT NULL AS paying
    FROM dash.customers() cu
    LEFT JOIN main.mart_customer_value v ON v.customer_id = cu.customer_id
    LEFT JOIN main.mart_rfm r ON r.customer_id = cu.customer_id
    LEFT JOIN main.mart_clv l ON l.customer_id = cu.customer_id
    WHERE dash.in_scope(cu.owner_rep_id, cu.owner_org, $scope_all, $scope_org, $scope_rep)
      AND dash.under(cu.owner_org, $org)
)
SELECT 'customers' AS kpi, CAST(count(*) AS DOUBLE) AS value, CAST(count(*) FILTER (WHERE tier = 'unprofitable') AS DOUBLE) AS extra FROM c
UNION ALL SELECT 'paying', count(*) FILTER (WHERE paying), sum(monetary) FROM c
UNION ALL SELECT 'gold', count(*) FILTER (WHERE tier = 'gold'),
                 sum(margin) FILTER (WHERE tier = 'gold' AND margin > 0) / nullif(sum(margin) FILTER (WHERE margin > 0), 0) FROM c
UNION ALL SELECT 'margin', sum(margin), sum(margin) / nullif(count(*) FILTER (WHERE margin IS NOT NULL), 0) FROM c
UNION ALL SELECT 'clv', sum(clv), avg(p_alive) FROM c
UNION ALL SELECT 'at_risk', count(*) FILTER (WHERE segment IN ('at_risk', 'cant_lose', 'about_to_sleep')),
                 sum(monetary) FILTER (WHERE segment IN ('at_risk', 'cant_lose', 'about_to_sleep')) FROM c
