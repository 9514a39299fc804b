-- Activities logged in the period by the rep ($rep; NULL = every rep), by
-- month and kind (visit, call, meeting, email, event), on customers in the
-- user's scope below the org filter (an activity belongs to its customer's owner,
-- else to the rep who logged it).
SELECT CAST(date_trunc('month', CAST(a.occurred_at AS DATE)) AS DATE) AS month, a.kind, count(*) AS n
FROM live.activities a
LEFT JOIN dash.customers() cu ON cu.customer_id = a.customer_id
LEFT JOIN live.reps ar ON ar.rep_id = a.rep_id
WHERE dash.in_scope(coalesce(cu.owner_rep_id, a.rep_id), coalesce(cu.owner_org, ar.org_unit_id), $scope_all, $scope_org, $scope_rep)
  AND dash.under(coalesce(cu.owner_org, ar.org_unit_id), $org) AND ($rep IS NULL OR a.rep_id = $rep)
  AND CAST(a.occurred_at AS DATE) BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
GROUP BY ALL
ORDER BY month, a.kind
