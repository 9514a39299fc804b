-- A customer's activities ($customer; without one, those in the user's scope
-- logged in the period): visits, calls, meetings, emails and events, with the
-- rep who logged them, the deal and the campaign. An activity belongs to its
-- customer's owner (else to the rep who logged it).
SELECT a.activity_id, a.occurred_on AS date, a.kind, a.customer_name, ar.name AS rep_name,
       a.opportunity_id, cp.name AS campaign
FROM scoped.activity_facts($scope_all, $scope_org, $scope_rep) a
LEFT JOIN live.reps ar ON ar.rep_id = a.rep_id
LEFT JOIN live.campaigns cp ON cp.campaign_id = a.campaign_id
WHERE ($customer IS NULL OR a.customer_id = $customer)
  AND ($customer IS NOT NULL OR a.occurred_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
ORDER BY a.occurred_at DESC, a.activity_id
