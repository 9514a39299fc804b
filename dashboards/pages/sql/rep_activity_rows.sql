-- The activities behind the activity chart: logged in the period by the rep
-- ($rep; NULL = every rep) on customers in the user's scope below the org
-- filter. $point: 'm:YYYY-MM' (a month); NULL = the whole period.
SELECT a.activity_id, CAST(a.occurred_at AS DATE) AS date, a.kind, cu.customer_name, ar.name AS rep_name,
       a.opportunity_id, cp.name AS campaign, u.name AS org_unit
FROM live.activities a
LEFT JOIN dash.customers() cu ON cu.customer_id = a.customer_id
LEFT JOIN live.reps ar ON ar.rep_id = a.rep_id
LEFT JOIN live.campaigns cp ON cp.campaign_id = a.campaign_id
LEFT JOIN live.org_units u ON u.org_unit_id = coalesce(cu.owner_org, ar.org_unit_id)
WHERE dash.in_scope(coalesce(cu.owner_rep_id, a.rep_id), coalesce(cu.owner_org, ar.org_unit_id), $scope_all, $scope_org, $scope_rep)
  AND dash.under(coalesce(cu.owner_org, ar.org_unit_id), $org) AND ($rep IS NULL OR a.rep_id = $rep)
  AND CAST(a.occurred_at AS DATE) BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
  AND ($point IS NULL OR $point = 'm:' || strftime(CAST(a.occurred_at AS DATE), '%Y-%m'))
ORDER BY a.occurred_at DESC, a.activity_id
