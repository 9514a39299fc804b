-- Alerts one level down from the unit the page is about (its child units and
-- the reps attached to it directly), by severity, in the user's scope.
WITH a AS (   -- every alert with the owner of its subject (customer, contract, deal or org unit)
    SELECT * FROM scoped.alerts($scope_all, $scope_org, $scope_rep)
),
seen AS (   -- in the user's scope, below the org filter, of the kind and severity chosen
    SELECT a.kind, a.severity, a.subject_type, a.subject_id, a.detail, a.since,
           a.kind || '|' || a.subject_id || '|' || coalesce(strftime(a.since, '%Y-%m-%d'), '') AS alert_id,
           a.customer_id, a.subject_name, a.owner_rep_id, a.owner_org
    FROM a
    WHERE scoped.under_any(a.owner_org, $orgs)
      AND ($kind IS NULL OR a.kind = $kind) AND ($severity IS NULL OR a.severity = $severity)
),
keyed AS (
    SELECT CASE WHEN $node IS NULL OR s.owner_org = $node THEN 'rep:' || coalesce(s.owner_rep_id, '?') ELSE k.child_id END AS key,
           s.severity
    FROM seen s
    LEFT JOIN scoped.child_of($node) k ON k.org_unit_id = s.owner_org
    WHERE scoped.under(s.owner_org, $node)
)
SELECT CASE WHEN x.key LIKE 'rep:%' THEN 'rep' ELSE 'org' END AS kind, x.key,
       coalesce(u.name, r.name, CASE WHEN x.key = 'rep:?' THEN (SELECT n.name FROM live.org_units n WHERE n.org_unit_id = $node) END, x.key) AS label,
       count(*) FILTER (WHERE x.severity = 'high') AS high,
       count(*) FILTER (WHERE x.severity = 'medium') AS medium,
       count(*) FILTER (WHERE x.severity = 'low') AS low
FROM keyed x
LEFT JOIN live.org_units u ON u.org_unit_id = x.key
LEFT JOIN live.reps r ON r.rep_id = CASE WHEN x.key LIKE 'rep:%' THEN substr(x.key, 5) END  -- an equality: a hash join, not a nested loop
GROUP BY ALL
ORDER BY high + medium + low DESC, label
