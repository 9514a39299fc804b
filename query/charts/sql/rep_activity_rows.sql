-- The activities behind the activity chart: logged in the period by the rep
-- ($rep; NULL = every rep) on customers in the user's scope below the org
-- filter. $point: 'm:YYYY-MM' (a month); NULL = the whole period.
SELECT a.activity_id, a.occurred_on AS date, a.kind, a.customer_name, ar.name AS rep_name,
       a.opportunity_id, cp.name AS campaign, u.name AS org_unit
FROM scoped.activity_facts($scope_all, $scope_org, $scope_rep) a
LEFT JOIN live.reps ar ON ar.rep_id = a.rep_id
LEFT JOIN live.campaigns cp ON cp.campaign_id = a.campaign_id
LEFT JOIN live.org_units u ON u.org_unit_id = a.owner_org
WHERE scoped.under_any(a.owner_org, $orgs) AND ($rep IS NULL OR a.rep_id = $rep)
  AND a.occurred_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
  AND ($point IS NULL OR $point = 'm:' || strftime(a.occurred_on, '%Y-%m'))
ORDER BY a.occurred_at DESC, a.activity_id
