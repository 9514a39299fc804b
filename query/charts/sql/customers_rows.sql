-- The customers behind a point of the customers page, in the user's scope below
-- the org filter. $point: 'rfm:<R>-<F>' (a cell of the RFM grid), 'seg:<segment>',
-- 'tier:<tier>', 'p:<band>' (a 2 % band of the Pareto curve), 'xs:<product line>'
-- (cross-sell candidates), 'id:<customer_id>', or a tile: 'customers', 'paying',
-- 'gold', 'margin', 'clv', 'at_risk'; NULL = every customer.
WITH c AS (
    SELECT cu.customer_id, cu.customer_name, cu.owner_rep_id, cu.owner_org, cu.industry, cu.lifecycle_stage,
           r.segment, r.r_score, r.f_score, r.m_score, r.recency_days, r.frequency, CAST(r.monetary AS DOUBLE) AS paid,
           v.tier, v.value_index AS index_7p, CAST(d.revenue AS DOUBLE) AS revenue, CAST(v.margin AS DOUBLE) AS margin,
           l.clv, l.p_alive
    FROM scoped.customer_facts($scope_all, $scope_org, $scope_rep) cu
    LEFT JOIN scoped.mart_rfm($scope_all, $scope_org, $scope_rep) r ON r.customer_id = cu.customer_id
    LEFT JOIN scoped.mart_customer_value($scope_all, $scope_org, $scope_rep) v ON v.customer_id = cu.customer_id
    LEFT JOIN scoped.mart_customer_value_detail($scope_all, $scope_org, $scope_rep) d ON d.customer_id = cu.customer_id
    LEFT JOIN scoped.mart_clv($scope_all, $scope_org, $scope_rep) l ON l.customer_id = cu.customer_id
    WHERE scoped.under_any(cu.owner_org, $orgs)
),
pareto AS (   -- the Pareto bands, as in customers_pareto.sql
    SELECT customer_id, CAST(ceil(row_number() OVER (ORDER BY revenue DESC, customer_id) * 50.0 / count(*) OVER ()) AS INTEGER) AS band
    FROM c WHERE revenue > 0
)
SELECT c.customer_id, c.customer_name, rp.name AS rep_name, u.name AS org_unit, c.industry, c.lifecycle_stage,
       c.segment, c.r_score, c.f_score, c.m_score, c.recency_days, c.frequency, c.paid,
       c.tier, c.index_7p, c.revenue, c.margin, c.clv, c.p_alive
FROM c
LEFT JOIN pareto p ON p.customer_id = c.customer_id
LEFT JOIN live.reps rp ON rp.rep_id = c.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = c.owner_org
WHERE $point IS NULL OR $point IN ('customers', 'margin')
   OR $point = 'paying' AND c.segment IS NOT NULL
   OR $point = 'gold' AND c.tier = 'gold'
   OR $point = 'clv' AND c.clv IS NOT NULL
   OR $point = 'at_risk' AND c.segment IN ('at_risk', 'cant_lose', 'about_to_sleep')
   OR $point = 'rfm:' || c.r_score || '-' || c.f_score
   OR $point = 'seg:' || c.segment
   OR $point = 'tier:' || c.tier
   OR $point = 'p:' || p.band
   OR $point = 'id:' || c.customer_id
   OR $point LIKE 'xs:%' AND c.customer_id IN (SELECT x.customer_id FROM scoped.mart_cross_sell($scope_all, $scope_org, $scope_rep) x WHERE x.product_line = substr($point, 4))
ORDER BY c.margin DESC NULLS LAST, c.customer_id
