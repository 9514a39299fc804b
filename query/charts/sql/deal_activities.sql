-- The activities logged on a deal ($deal), newest first. Without a deal: the
-- activities on deals in the user's scope logged in the period. An activity
-- belongs to its customer's owner (else to the rep who logged it).
SELECT a.activity_id, a.occurred_on AS date, a.kind, ar.name AS rep_name, a.customer_name,
       a.opportunity_id, cp.name AS campaign
FROM scoped.activity_facts($scope_all, $scope_org, $scope_rep) a
LEFT JOIN live.reps ar ON ar.rep_id = a.rep_id
LEFT JOIN live.campaigns cp ON cp.campaign_id = a.campaign_id
-- (the deal's own activities by the key alone: a second condition on the
-- same scan keeps DuckDB from the lookup index, models/sql/facts.sql)
WHERE ($deal IS NULL AND a.opportunity_id IS NOT NULL OR a.opportunity_id = $deal)
  AND ($deal IS NOT NULL OR a.occurred_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
ORDER BY a.occurred_at DESC, a.activity_id
