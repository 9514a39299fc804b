-- The rows behind the market funnel: $point = 'responses' (the activities that
-- carry a campaign), 'opportunities' (deals created from a campaign), 'won'
-- (those won), or 'c:<campaign_id>' (one campaign's responses and deals);
-- NULL = the responses and the deals. Up to the as-of date, in the user's
-- scope below the org filter.
WITH resp AS (
    SELECT 'activities' AS entity, a.activity_id AS record_id, a.occurred_on AS date, a.campaign_id,
           a.customer_name, a.owner_rep_id, a.owner_org,
           a.kind AS status, CAST(NULL AS VARCHAR) AS currency, CAST(NULL AS DECIMAL(18,2)) AS amount, CAST(NULL AS DECIMAL(18,2)) AS amount_base
    FROM scoped.activity_facts($scope_all, $scope_org, $scope_rep) a
    WHERE a.campaign_id IS NOT NULL AND a.occurred_on <= CAST($as_of AS DATE)
      AND ($point IS NULL OR $point = 'responses' OR $point = 'c:' || a.campaign_id)
),
deals AS (
    SELECT 'opportunities', o.opportunity_id, o.created_on, o.campaign_id, o.customer_name, o.owner_rep_id, o.owner_org,
           CASE WHEN o.status IN ('won', 'lost') AND o.closed_on <= CAST($as_of AS DATE) THEN o.status ELSE o.stage END,
           o.currency, o.amount, o.amount_base
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o
    WHERE o.campaign_id IS NOT NULL AND o.created_on <= CAST($as_of AS DATE)
      AND ($point IS NULL OR $point = 'opportunities' OR $point = 'c:' || o.campaign_id
           OR $point = 'won' AND o.status = 'won' AND o.closed_on <= CAST($as_of AS DATE))
)
SELECT x.entity, x.record_id, x.date, cp.name AS campaign, x.customer_name, rp.name AS rep_name, u.name AS org_unit,
       x.status, x.currency, x.amount, x.amount_base
FROM (SELECT * FROM resp UNION ALL SELECT * FROM deals) x
LEFT JOIN live.campaigns cp ON cp.campaign_id = x.campaign_id
LEFT JOIN live.reps rp ON rp.rep_id = x.owner_rep_id
LEFT JOIN live.org_units u ON u.org_unit_id = x.owner_org
WHERE scoped.under_any(x.owner_org, $orgs)
ORDER BY x.date DESC, x.record_id
