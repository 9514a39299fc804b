-- A customer's activities ($customer; without one, those in the user's scope
-- logged in the period): visits, calls, meetings, emails and events, with the
-- rep who logged them, the deal and the campaign. An activity belongs to its
-- customer's owner (else to the rep who logged it).
SELECT a.activity_id, CAST(a.occurred_at AS DATE) AS date, a.kind, cu.customer_name, ar.name AS rep_name,
       a.opportunity_id, cp.name AS campaign
FROM live.activities a
LEFT JOIN dash.customers() cu ON cu.customer_id = a.customer_id
LEFT JOIN live.reps ar ON ar.rep_id = a.rep_id
LEFT JOIN live.campaigns cp ON cp.campaign_id = a.campaign_id
WHERE dash.in_scope(coalesce(cu.owner_rep_id, a.rep_id), coalesce(cu.owner_org, ar.org_unit_id), $scope_all, $scope_org, $scope_rep)
  AND ($customer IS NULL OR a.customer_id = $customer)
  AND ($customer IS NOT NULL OR CAST(a.occurred_at AS DATE) BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
ORDER BY a.occurred_at DESC, a.activity_id
