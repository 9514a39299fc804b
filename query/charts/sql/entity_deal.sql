-- The header of a deal's page ($id): customer, owner, stage or outcome,
-- amount, probability, product, source, partner, campaign, dates, competitor
-- and close reason. No row when the deal is not in the user's scope.
SELECT o.opportunity_id, o.customer_id, o.customer_name, o.owner_rep_id, r.name AS rep_name, u.name AS org_unit,
       o.stage, o.status, o.probability, o.currency, CAST(o.amount AS DOUBLE) AS amount, CAST(o.amount_base AS DOUBLE) AS amount_base,
       pr.name AS product, o.product_line, o.source, o.channel, pa.name AS partner, cp.name AS campaign,
       o.created_on, o.expected_close_on, o.closed_on, o.competitor, o.close_reason,
       date_diff('day', o.created_on, coalesce(o.closed_on, CAST($as_of AS DATE))) AS age_days,
       (SELECT count(*) FROM scoped.mart_collisions($scope_all, $scope_org, $scope_rep, one_deal := $id)) AS collisions
FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep, one_deal := $id) o
JOIN scoped.opportunities($scope_all, $scope_org, $scope_rep, one_deal := $id) x ON x.opportunity_id = o.opportunity_id
LEFT JOIN live.reps r ON r.rep_id = o.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = o.owner_org
LEFT JOIN live.products pr ON pr.product_id = x.product_id
LEFT JOIN live.partners pa ON pa.partner_id = o.partner_id
LEFT JOIN live.campaigns cp ON cp.campaign_id = x.campaign_id
WHERE o.opportunity_id = $id
