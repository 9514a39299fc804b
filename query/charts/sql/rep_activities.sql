-- Activities logged in the period by the rep ($rep; NULL = every rep), by
-- month and kind (visit, call, meeting, email, event), on customers in the
-- user's scope below the org filter (an activity belongs to its customer's owner,
-- else to the rep who logged it).
SELECT CAST(date_trunc('month', a.occurred_on) AS DATE) AS month, a.kind, count(*) AS n
FROM scoped.activity_facts($scope_all, $scope_org, $scope_rep) a
WHERE scoped.under_any(a.owner_org, $orgs) AND ($rep IS NULL OR a.rep_id = $rep)
  AND a.occurred_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
GROUP BY ALL
ORDER BY month, a.kind
